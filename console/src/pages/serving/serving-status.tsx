/** Serving is on: its state and message, the compute size, and Stop (with a confirmation). */
import { useState } from 'preact/hooks';
import { disableServing, type EndpointStatusJson } from '../../api/serving';
import { Button } from '../../ui/button';
import { ConfirmDialog } from '../../ui/dialog';
import { StatusDot } from '../../ui/status-dot';
import type { Abilities } from '../model';

export function ServingStatus(props: {
  readonly name: string;
  readonly status: EndpointStatusJson;
  readonly abilities: Abilities;
  readonly onChange: () => Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const { state, message, compute_size: size } = props.status;
  // Switched off but not yet stopped: the task is being removed.
  const stopping = !props.status.enabled;
  const reason = !props.abilities.can('CAN_MANAGE')
    ? 'Stopping serving requires CAN_MANAGE on this model.'
    : stopping
      ? 'Serving is stopping.'
      : undefined;
  return (
    <div class="card serving-on">
      <div class="serving-status">
        <p class="serving-status-line" role="status">
          <strong>Status:</strong> <StatusDot state={state.replace('ENDPOINT_STATE_', '')} />
          {message && <span class="muted"> {message}</span>}
        </p>
        {size && (
          <p class="serving-status-line">
            <strong>Compute size:</strong> {size}
          </p>
        )}
      </div>
      <Button variant="danger" onClick={() => setConfirming(true)} disabledReason={reason}>
        Stop
      </Button>
      <ConfirmDialog
        open={confirming}
        title="Stop serving"
        confirmLabel="Stop"
        danger
        onClose={() => setConfirming(false)}
        onConfirm={async () => {
          await disableServing(props.name);
          await props.onChange();
        }}
      >
        <p>
          Serving of every version of <strong>{props.name}</strong> stops and its task is removed: its model URLs answer
          errors until serving is enabled again.
        </p>
      </ConfirmDialog>
    </div>
  );
}
