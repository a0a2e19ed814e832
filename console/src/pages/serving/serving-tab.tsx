/**
 * A model's Serving tab, as the retired product had it: Enable Serving while serving is off;
 * once on, the status with Stop, and the tabs Model Versions, Model Events, Compute Settings and
 * Metrics. The status is polled while the page is visible, so Pending → Ready shows on its own.
 */
import { getServingStatus } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { href } from '../../routes';
import { ErrorBox } from '../../ui/error-box';
import { Tabs } from '../../ui/tabs';
import type { Abilities, ModelRoute } from '../model';
import { ComputeSettings } from './compute-settings';
import { EnableServing } from './enable-serving';
import { Metrics } from './metrics';
import { ModelEvents } from './model-events';
import { ModelVersions } from './model-versions';
import { POLL_MS } from './polling';
import { ServingStatus } from './serving-status';
import './serving.css';

export function ServingTab(props: { readonly route: ModelRoute; readonly abilities: Abilities }) {
  const { name, serving } = props.route;
  const status = useResource(() => getServingStatus(name), [name], { pollMs: POLL_MS });
  if (!status.data) {
    return status.error ? (
      <ErrorBox error={status.error} context="Could not read the serving status" />
    ) : (
      <p class="muted">Loading…</p>
    );
  }
  const tab = (id: typeof serving, label: string) => ({
    id,
    label,
    href: href.model(name, 'serving', { serving: id, version: props.route.version }),
  });
  const enabled = status.data.state !== 'ENDPOINT_STATE_STOPPED';
  return (
    <>
      <ErrorBox error={status.error} context="Could not refresh the serving status" />
      {enabled ? (
        <ServingStatus name={name} status={status.data} abilities={props.abilities} onChange={status.reload} />
      ) : (
        <EnableServing name={name} status={status.data} abilities={props.abilities} onChange={status.reload} />
      )}
      {enabled && (
        <Tabs
          label="Serving"
          idPrefix="serving"
          selected={serving}
          tabs={[
            tab('model-versions', 'Model Versions'),
            tab('model-events', 'Model Events'),
            tab('compute-settings', 'Compute Settings'),
            tab('metrics', 'Metrics'),
          ]}
        >
          {serving === 'model-versions' && <ModelVersions route={props.route} />}
          {serving === 'model-events' && <ModelEvents name={name} />}
          {serving === 'compute-settings' && (
            <ComputeSettings name={name} status={status.data} abilities={props.abilities} onSaved={status.reload} />
          )}
          {serving === 'metrics' && <Metrics name={name} window={props.route.window} />}
        </Tabs>
      )}
    </>
  );
}
