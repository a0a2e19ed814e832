/** Serving is off: what enabling does, and Enable Serving (for those who manage the model). */
import { useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import { type EndpointStatusJson, enableServing } from '../../api/serving';
import { Button } from '../../ui/button';
import { ErrorBox } from '../../ui/error-box';
import { StatusDot } from '../../ui/status-dot';
import type { Abilities } from '../model';

export function EnableServing(props: {
  readonly name: string;
  readonly status: EndpointStatusJson;
  readonly abilities: Abilities;
  readonly onChange: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  // compute_size is recorded at the first enable: a model that has it was served before.
  const servedBefore = props.status.compute_size !== undefined;
  const enable = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await enableServing(props.name);
      await props.onChange();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card serving-off">
      {servedBefore && (
        <p class="serving-status-line" role="status">
          <strong>Status:</strong> <StatusDot state="STOPPED" />
          {props.status.message && <span class="muted"> {props.status.message}</span>}
        </p>
      )}
      <p>
        Enabling serving starts a serving task for <strong>{props.name}</strong> that serves every version that is not
        archived, each at its own model URL, and follows new versions, stages and aliases as they change.
      </p>
      <Button
        variant="primary"
        onClick={() => void enable()}
        busy={busy}
        disabledReason={
          props.abilities.can('CAN_MANAGE') ? undefined : 'Enabling serving requires CAN_MANAGE on this model.'
        }
      >
        Enable Serving
      </Button>
      <ErrorBox error={error} context="Could not enable serving" />
    </div>
  );
}
