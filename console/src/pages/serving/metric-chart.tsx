/**
 * One metric over time, a line per version (and per figure, e.g. p50 and p99), drawn with the
 * chart primitive; the same figures in a data table beneath it.
 */
import { useMemo } from 'preact/hooks';
import type { MetricPointJson, VersionMetricsJson } from '../../api/serving';
import { CHART_COLORS, Chart, type ChartSeries } from '../../ui/chart';
import { type Column, Table } from '../../ui/table';
import { formatTime } from '../format';

export interface MetricLine {
  /** What the line shows, after the version: `p50`, `server errors`. */
  readonly label: string;
  readonly value: (point: MetricPointJson) => number | undefined;
  readonly dash?: readonly number[];
}

interface Row {
  readonly time: number;
  readonly values: readonly (number | null)[];
}

/** The times of every version's points, and per version and line its label, colour and values at those times. */
function figures(versions: readonly VersionMetricsJson[], lines: readonly MetricLine[]) {
  const times = [...new Set(versions.flatMap((v) => v.points.map((p) => p.timestamp_ms)))].sort((a, b) => a - b);
  const series: ChartSeries[] = [];
  const columns: (number | null)[][] = [];
  versions.forEach((v, i) => {
    const byTime = new Map(v.points.map((p) => [p.timestamp_ms, p]));
    for (const line of lines) {
      series.push({
        label: `Version ${v.endpoint_version_name} ${line.label}`,
        color: CHART_COLORS[i % CHART_COLORS.length] ?? CHART_COLORS[0],
        dash: line.dash,
      });
      columns.push(
        times.map((t) => {
          const point = byTime.get(t);
          return point ? (line.value(point) ?? null) : null;
        }),
      );
    }
  });
  return { times, series, columns };
}

export function MetricChart(props: {
  readonly title: string;
  readonly versions: readonly VersionMetricsJson[];
  readonly lines: readonly MetricLine[];
  readonly format: (value: number) => string;
}) {
  // Rebuilt when the figures change, not at every render, so the chart redraws only then.
  const { times, series, columns } = useMemo(() => figures(props.versions, props.lines), [props.versions, props.lines]);
  const data = useMemo(() => [times.map((t) => t / 1000), ...columns], [times, columns]);
  const rows: Row[] = times.map((time, i) => ({ time, values: columns.map((c) => c[i] ?? null) }));
  const tableColumns: Column<Row>[] = [
    { header: 'Time', cell: (r) => formatTime(r.time) },
    ...series.map((s, i) => ({
      header: s.label,
      numeric: true,
      cell: (r: Row) => {
        const value = r.values[i];
        return value === null || value === undefined ? '—' : props.format(value);
      },
    })),
  ];
  const id = `metric-${props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section class="metric" aria-labelledby={id}>
      <h3 id={id}>{props.title}</h3>
      <Chart
        label={`${props.title} by version over time; the data table below has the same figures.`}
        series={series}
        data={data}
        format={props.format}
      />
      <details class="metric-data">
        <summary>Data table: {props.title}</summary>
        <Table
          caption={props.title}
          captionHidden
          columns={tableColumns}
          rows={rows}
          rowKey={(r) => String(r.time)}
          empty="No data in this window."
        />
      </details>
    </section>
  );
}
