/** One served version's Logs (its lines of the serving task's log, refreshed on demand) and Version Events. */
import { getEventHistory, getVersionLogs } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { Button } from '../../ui/button';
import { ErrorBox } from '../../ui/error-box';
import { CodeBlock } from './code-block';
import { EventTable } from './event-table';
import { POLL_MS } from './polling';

export function VersionLogs(props: { readonly name: string; readonly version: string }) {
  const logs = useResource(() => getVersionLogs(props.name, props.version), [props.name, props.version]);
  return (
    <>
      <div class="section-heading">
        <h3>Logs</h3>
        <Button
          onClick={() => void logs.reload()}
          busy={logs.loading}
          label={`Refresh the logs of version ${props.version}`}
        >
          Refresh
        </Button>
      </div>
      <ErrorBox error={logs.error} context="Could not read the logs" />
      <CodeBlock label={`Logs of version ${props.version}`}>
        {logs.data === undefined ? 'Loading…' : logs.data || 'No log lines for this version yet.'}
      </CodeBlock>
    </>
  );
}

export function VersionEvents(props: { readonly name: string; readonly version: string }) {
  const events = useResource(() => getEventHistory(props.name, props.version), [props.name, props.version], {
    pollMs: POLL_MS * 2,
  });
  return (
    <>
      <h3>Version Events</h3>
      <ErrorBox error={events.error} context="Could not read the version's events" />
      <EventTable
        caption={`Events of version ${props.version}`}
        events={events.data}
        loading={events.loading}
        withVersion={false}
      />
    </>
  );
}
