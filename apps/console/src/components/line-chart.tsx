import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  colour: string;
}

/** A uPlot line chart (over epochs unless told otherwise), redrawn in place as new points arrive. */
export function LineChart({
  title,
  x,
  series,
  xLabel = 'epoch',
  yRange,
  height = 220,
  timeAxis = false,
}: {
  title: string;
  /** Ascending. */
  x: number[];
  series: Series[];
  xLabel?: string;
  /** Fixed bounds of the y axis (default: fitted to the data). */
  yRange?: [number, number];
  height?: number;
  /** x holds Unix seconds, shown as dates and times; each point is marked (a period may stand alone). */
  timeAxis?: boolean;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const shape = series.map((item) => `${item.label}:${item.colour}`).join('|');
  const [yMin, yMax] = yRange ?? [null, null];

  useEffect(() => {
    const element = container.current!;
    const plot = new uPlot(
      {
        title,
        width: Math.max(280, element.clientWidth),
        height,
        scales: {
          x: { time: timeAxis },
          ...(yMin !== null && yMax !== null ? { y: { range: [yMin, yMax] as [number, number] } } : {}),
        },
        axes: [{ label: xLabel }, {}],
        series: [
          { label: xLabel },
          ...series.map((item) => ({
            label: item.label,
            stroke: item.colour,
            width: 2,
            ...(timeAxis ? { points: { show: true, size: 6 } } : {}),
          })),
        ],
      },
      [[], ...series.map(() => [])],
      element,
    );
    chart.current = plot;
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(280, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
    // The chart is rebuilt only when its series change; new points go through setData below.
  }, [shape, title, height, xLabel, yMin, yMax, timeAxis]);

  useEffect(() => {
    chart.current?.setData([x, ...series.map((item) => item.values)]);
  }, [x, series]);

  return <div ref={container} className="chart" role="img" aria-label={`${title} chart`} />;
}
