/**
 * Metrics: requests, client and server errors and p50/p99 latency per version over a chosen
 * window, as charts with a data table behind each; feature-lookup figures where a version
 * looks features up.
 */
import { getMetricHistory, type VersionMetricsJson } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { href, navigate } from '../../routes';
import { Button } from '../../ui/button';
import { ErrorBox } from '../../ui/error-box';
import { FormRow, SelectField } from '../../ui/field';
import { type Column, Table } from '../../ui/table';
import { formatMs } from '../format';
import { MetricChart, type MetricLine } from './metric-chart';

/** The windows offered, and the period of their points (about 30 to 100 points each). */
const WINDOWS = [
  { value: '15m', label: 'Last 15 minutes', ms: 15 * 60_000, periodSeconds: 30 },
  { value: '1h', label: 'Last hour', ms: 3600_000, periodSeconds: 60 },
  { value: '6h', label: 'Last 6 hours', ms: 6 * 3600_000, periodSeconds: 300 },
  { value: '24h', label: 'Last 24 hours', ms: 24 * 3600_000, periodSeconds: 900 },
] as const;

const count = (n: number) => n.toLocaleString();
const dash = [6, 4];

/** What each chart draws per version (p99 and server errors dashed: colour is never the only difference). */
const REQUESTS: readonly MetricLine[] = [{ label: 'requests', value: (p) => p.requests }];
const ERRORS: readonly MetricLine[] = [
  { label: 'client errors (4xx)', value: (p) => p.client_errors },
  { label: 'server errors (5xx)', value: (p) => p.server_errors, dash },
];
const LATENCY: readonly MetricLine[] = [
  { label: 'p50', value: (p) => p.latency_p50_ms },
  { label: 'p99', value: (p) => p.latency_p99_ms, dash },
];

export function Metrics(props: { readonly name: string; readonly window?: string }) {
  // The window is in the URL, so a chart can be linked.
  const chosen = WINDOWS.find((w) => w.value === props.window) ?? WINDOWS[1];
  const setWindowId = (window: string) =>
    navigate(href.model(props.name, 'serving', { serving: 'metrics', window }), true);
  const history = useResource(
    () => getMetricHistory(props.name, chosen.ms, chosen.periodSeconds),
    [props.name, chosen],
    { pollMs: 10_000 },
  );
  const versions = history.data?.metrics ?? [];
  const withLookups = versions.filter((v) => v.feature_lookups);
  const totals: Column<VersionMetricsJson>[] = [
    { header: 'Version', cell: (v) => `Version ${v.endpoint_version_name}` },
    { header: 'Requests', cell: (v) => count(v.requests), numeric: true },
    { header: 'Client errors', cell: (v) => count(v.client_errors), numeric: true },
    { header: 'Server errors', cell: (v) => count(v.server_errors), numeric: true },
    { header: 'Latency p50', cell: (v) => formatMs(v.latency_p50_ms), numeric: true },
    { header: 'Latency p99', cell: (v) => formatMs(v.latency_p99_ms), numeric: true },
  ];
  const lookups: Column<VersionMetricsJson>[] = [
    { header: 'Version', cell: (v) => `Version ${v.endpoint_version_name}` },
    { header: 'Keys looked up', cell: (v) => count(v.feature_lookups?.keys ?? 0), numeric: true },
    { header: 'Misses', cell: (v) => count(v.feature_lookups?.misses ?? 0), numeric: true },
    { header: 'Failed requests', cell: (v) => count(v.feature_lookups?.failures ?? 0), numeric: true },
    { header: 'Lookup p50', cell: (v) => formatMs(v.feature_lookups?.latency_p50_ms), numeric: true },
    { header: 'Lookup p99', cell: (v) => formatMs(v.feature_lookups?.latency_p99_ms), numeric: true },
  ];
  return (
    <>
      <h2 class="visually-hidden">Metrics</h2>
      <FormRow>
        <SelectField label="Window" value={chosen.value} onChange={setWindowId} options={WINDOWS} />
        <Button onClick={() => void history.reload()}>Refresh</Button>
      </FormRow>
      <ErrorBox error={history.error} context="Could not read the metrics" />
      <Table
        caption="Totals over the window, by version"
        columns={totals}
        rows={versions}
        rowKey={(v) => v.endpoint_version_name}
        empty={history.loading && !history.data ? 'Loading…' : 'No live version.'}
      />
      <MetricChart title="Requests" versions={versions} format={count} lines={REQUESTS} />
      <MetricChart title="Errors" versions={versions} format={count} lines={ERRORS} />
      <MetricChart title="Latency" versions={versions} format={formatMs} lines={LATENCY} />
      {withLookups.length > 0 && (
        <Table
          caption="Feature lookups over the window, by version"
          columns={lookups}
          rows={withLookups}
          rowKey={(v) => v.endpoint_version_name}
        />
      )}
    </>
  );
}
