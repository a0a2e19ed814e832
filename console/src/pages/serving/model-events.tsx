/** Model Events: every serving event of the model, newest first, polled while the page is visible. */
import { getEventHistory } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { ErrorBox } from '../../ui/error-box';
import { EventTable } from './event-table';
import { POLL_MS } from './polling';

export function ModelEvents(props: { readonly name: string }) {
  const events = useResource(() => getEventHistory(props.name, undefined, 200), [props.name], { pollMs: POLL_MS });
  return (
    <>
      <h2 class="visually-hidden">Model Events</h2>
      <ErrorBox error={events.error} context="Could not read the model's events" />
      <EventTable
        caption={`Serving events of ${props.name}`}
        events={events.data}
        loading={events.loading}
        withVersion
      />
    </>
  );
}
