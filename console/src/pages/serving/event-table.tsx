/** Serving events as a table, newest first: Timestamp | Event Type | (Version) | Message. */
import type { ServingEventJson } from '../../api/serving';
import { type Column, Table } from '../../ui/table';
import { formatTime } from '../format';

interface Row {
  readonly event: ServingEventJson;
  readonly key: string;
}

export function EventTable(props: {
  readonly caption: string;
  readonly events?: readonly ServingEventJson[];
  readonly loading: boolean;
  readonly withVersion: boolean;
}) {
  const columns: Column<Row>[] = [
    {
      header: 'Timestamp',
      cell: ({ event: e }) => <time dateTime={new Date(e.timestamp).toISOString()}>{formatTime(e.timestamp)}</time>,
    },
    { header: 'Event Type', cell: ({ event: e }) => <code>{e.event_type}</code> },
    ...(props.withVersion ? [{ header: 'Version', cell: ({ event: e }: Row) => e.endpoint_version_name ?? '—' }] : []),
    // A failure's message (ENV_BUILD_FAILED) carries the installer's last lines: shown as lines.
    { header: 'Message', cell: ({ event: e }) => <span class="event-message">{e.message}</span> },
  ];
  // Events can repeat to the millisecond: each key counts the identical ones before it.
  const seen = new Map<string, number>();
  const rows: Row[] = [...(props.events ?? [])]
    .sort((a, b) => b.timestamp - a.timestamp)
    .map((event) => {
      const id = `${event.timestamp}|${event.event_type}|${event.endpoint_version_name ?? ''}|${event.message}`;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return { event, key: `${id}|${n}` };
    });
  return (
    <Table
      caption={props.caption}
      captionHidden
      columns={columns}
      rows={rows}
      rowKey={(r) => r.key}
      empty={props.loading && !props.events ? 'Loading…' : 'No events yet.'}
    />
  );
}
