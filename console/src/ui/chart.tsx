/**
 * A small time-series chart on uPlot: as wide as its container (it follows resizes), redrawn
 * when the data changes, destroyed on unmount. uPlot sizes its elements through the CSSOM,
 * never `style` attributes, so the console's CSP stays strict. The canvas is an image to
 * assistive technology: give it a label, and put the same figures in a data table beside it.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './chart.css';

export interface ChartSeries {
  readonly label: string;
  /** A colour with at least 4.5:1 contrast on the surface (the legend writes labels in it). */
  readonly color: string;
  /** Dashes, so that colour is never the only difference between two lines. */
  readonly dash?: readonly number[];
}

/** Line colours, each readable on white. */
export const CHART_COLORS = ['#1f5fbf', '#b3261e', '#1e7e34', '#8a4baf', '#9a5b00', '#0b7285'] as const;

export function Chart(props: {
  /** The chart's accessible name: what it shows, and where its data table is. */
  readonly label: string;
  readonly series: readonly ChartSeries[];
  /** Times in seconds since the epoch, then one array of values per series (null: no value). */
  readonly data: readonly (readonly (number | null)[])[];
  readonly height?: number;
  /** How values read on the y axis and in the legend. */
  readonly format?: (value: number) => string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const height = props.height ?? 220;
  const shape = JSON.stringify(props.series);
  const format = props.format ?? ((v: number) => String(v));

  // Rebuilt only when the series change; data and size update in place.
  useEffect(() => {
    const el = container.current;
    if (!el) return;
    const show = (v: number | null) => (v === null || v === undefined ? '—' : format(v));
    const chart = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            dash: s.dash ? [...s.dash] : undefined,
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => show(v),
          })),
        ],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => format(t)), size: 64 }],
        // From zero (or below) to a little above the highest value; 0–1 when there is none.
        scales: {
          y: {
            range: (_u, min, max) => [
              Number.isFinite(min) ? Math.min(0, min) : 0,
              Number.isFinite(max) && max > 0 ? max * 1.1 : 1,
            ],
          },
        },
        cursor: { drag: { x: false, y: false } },
      },
      props.data as uPlot.AlignedData,
      el,
    );
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      const width = Math.max(el.clientWidth, 200);
      if (width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  return <div class="chart" ref={container} role="img" aria-label={props.label} />;
}
