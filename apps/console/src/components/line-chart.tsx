import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  colour: string;
}

/** A uPlot line chart over epochs, redrawn in place as new points arrive. */
export function LineChart({ title, epochs, series, height = 220 }: { title: string; epochs: number[]; series: Series[]; height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const shape = series.map((item) => item.label).join('|');

  useEffect(() => {
    const element = container.current!;
    const plot = new uPlot(
      {
        title,
        width: Math.max(280, element.clientWidth),
        height,
        scales: { x: { time: false } },
        axes: [{ label: 'epoch' }, {}],
        series: [{ label: 'epoch' }, ...series.map((item) => ({ label: item.label, stroke: item.colour, width: 2 }))],
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
  }, [shape, title, height]);

  useEffect(() => {
    chart.current?.setData([epochs, ...series.map((item) => item.values)]);
  }, [epochs, series]);

  return <div ref={container} className="chart" role="img" aria-label={`${title} chart`} />;
}
