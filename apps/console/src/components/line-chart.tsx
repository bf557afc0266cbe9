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
  percent = false,
  xPercent = false,
  yLabel,
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
  /** The values are fractions shown in percent, as the console shows metrics everywhere else. */
  percent?: boolean;
  /** x too is a fraction shown in percent (recall). */
  xPercent?: boolean;
  yLabel?: string;
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
        axes: [
          {
            label: xLabel,
            ...(xPercent
              ? { values: (_: uPlot, ticks: number[]) => percentTicks(ticks) }
              : timeAxis
                ? {}
                : { incrs: WHOLE_STEPS }),
          },
          {
            label: yLabel,
            size: fitValues,
            ...(percent ? { values: (_: uPlot, ticks: number[]) => percentTicks(ticks) } : {}),
          },
        ],
        // The series' names and colours only: a live legend reads '--' for every value until hovered.
        legend: { live: false },
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
  }, [shape, title, height, xLabel, yLabel, yMin, yMax, timeAxis, percent, xPercent]);

  useEffect(() => {
    chart.current?.setData([x, ...series.map((item) => item.values)]);
  }, [x, series]);

  return <div ref={container} className="chart" role="img" aria-label={`${title} chart`} />;
}

/**
 * The y axis as wide as its longest value (uPlot's fixed 50 px cut '100.0%' and '0.000001' off at the chart's edge):
 * a margin from the card's edge, the value's width in the axis font, the gap and its ticks. A y axis's values do not
 * depend on its width, so measuring at every sizing cycle converges.
 */
const EDGE_MARGIN = 8;
/** Steps between ticks counting whole things (epochs): no 'epoch 1.25' between epochs 1 and 2. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
function fitValues(self: uPlot, values: string[] | null, axisIndex: number): number {
  // Once drawn, uPlot holds the axis font as [font, size, CSS size].
  const axis = self.axes[axisIndex] as unknown as { font: [string]; ticks?: { size?: number }; gap?: number };
  const longest = (values ?? []).reduce((widest, value) => (value.length > widest.length ? value : widest), '');
  self.ctx.font = axis.font[0];
  const text = longest ? self.ctx.measureText(longest).width / devicePixelRatio : 0;
  return Math.ceil(EDGE_MARGIN + text + (axis.gap ?? 5) + (axis.ticks?.size ?? 10));
}

/** Axis ticks in percent, with as many decimals as their spacing needs (99.4%, 99.6%… not 99%, 100%, 100%). */
function percentTicks(ticks: number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) * 100 : 1;
  const decimals = Math.min(2, Math.max(0, Math.ceil(-Math.log10(step))));
  return ticks.map((tick) => `${(tick * 100).toFixed(decimals)}%`);
}
