/**
 * Compute Settings: the compute size (a preset with its vCPU, memory and estimated monthly
 * price), the serving task's tags, request batching and workers per version. Save asks first,
 * saying what happens: a new size or tags start a new task while the current one serves until
 * it is ready (the rollout then shows in the status and events); batching and workers are
 * applied by the running task.
 */
import { useState } from 'preact/hooks';
import { type EndpointStatusJson, listComputeSizes, type ServingTagJson, updateClusterConfig } from '../../api/serving';
import { useResource } from '../../hooks/use-resource';
import { Button } from '../../ui/button';
import { ConfirmDialog } from '../../ui/dialog';
import { ErrorBox } from '../../ui/error-box';
import { SelectField } from '../../ui/field';
import { toast } from '../../ui/toasts';
import type { Abilities } from '../model';
import { describeHostChange, draftOf, type HostSettingsDraft, hostChangesOf, problemsOf } from './host-settings';
import { HostSettingsFields } from './host-settings-fields';
import { TagsEditor } from './tags-editor';

const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 0,
  maximumFractionDigits: 0,
});
const gib = (mib: number) => `${Number((mib / 1024).toFixed(1))} GiB`;

/** What Save would change: the size, and the tags to set and to delete. */
function changesOf(status: EndpointStatusJson, size: string, tags: readonly ServingTagJson[]) {
  const before = new Map((status.tags ?? []).map((t) => [t.key, t.value]));
  const after = new Map(tags.map((t) => [t.key, t.value]));
  return {
    computeSize: size !== status.compute_size ? size : undefined,
    tagsToSet: tags.filter((t) => before.get(t.key) !== t.value),
    tagsToDelete: [...before.keys()].filter((k) => !after.has(k)),
  };
}

export function ComputeSettings(props: {
  readonly name: string;
  readonly status: EndpointStatusJson;
  readonly abilities: Abilities;
  readonly onSaved: () => Promise<void>;
}) {
  const sizes = useResource(listComputeSizes, []);
  const [size, setSize] = useState(props.status.compute_size ?? '');
  const [tags, setTags] = useState<readonly ServingTagJson[]>(props.status.tags ?? []);
  const [host, setHost] = useState<HostSettingsDraft>(() => draftOf(props.status));
  const [confirming, setConfirming] = useState(false);
  const manage = props.abilities.can('CAN_MANAGE');
  const change = changesOf(props.status, size, tags);
  const newTask = change.computeSize !== undefined || change.tagsToSet.length > 0 || change.tagsToDelete.length > 0;
  const hostChange = hostChangesOf(props.status, host);
  const hostLines = describeHostChange(hostChange);
  const invalid = Object.keys(problemsOf(host)).length > 0;
  const changed = newTask || hostLines.length > 0;
  const options = (sizes.data?.compute_sizes ?? []).map((s) => ({
    value: s.name,
    label: `${s.name} — ${s.vcpu} vCPU, ${gib(s.memory_mib)} memory, about ${usd.format(s.estimated_monthly_usd)} a month`,
  }));
  return (
    <>
      <h2 class="visually-hidden">Compute Settings</h2>
      <ErrorBox error={sizes.error} context="Could not list the compute sizes" />
      <div class="card">
        <SelectField
          label="Compute size"
          value={size}
          onChange={setSize}
          options={options.length > 0 ? options : [{ value: size, label: size || 'Loading…' }]}
          disabled={!manage || !sizes.data}
          hint={
            sizes.data
              ? `The serving task's vCPU and memory. Prices are list prices in ${sizes.data.prices.region} (recorded ${sizes.data.prices.recorded}) for one served model running all month, usage not included.`
              : "The serving task's vCPU and memory."
          }
        />
        <TagsEditor tags={tags} onChange={setTags} disabled={!manage} />
        <HostSettingsFields draft={host} onChange={setHost} disabled={!manage} />
        <div class="settings-actions">
          <Button
            variant="primary"
            onClick={() => setConfirming(true)}
            disabled={!changed || invalid}
            disabledReason={manage ? undefined : 'Changing compute settings requires CAN_MANAGE on this model.'}
          >
            Save
          </Button>
          {manage && !changed && <span class="muted">No changes to save.</span>}
        </div>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Save compute settings"
        confirmLabel="Save"
        onClose={() => setConfirming(false)}
        onConfirm={async () => {
          await updateClusterConfig(props.name, { ...change, ...hostChange });
          await props.onSaved();
          toast(`Compute settings saved: ${newTask ? 'a new task is starting' : 'the running task applies them'}`);
        }}
      >
        {newTask && <p>A new task starts with these settings; the current one serves until it is ready.</p>}
        {hostLines.length > 0 && <p>The running task applies batching and workers at once; no new task starts.</p>}
        <ul>
          {change.computeSize && <li>Compute size: {change.computeSize}</li>}
          {change.tagsToSet.map((t) => (
            <li key={`set-${t.key}`}>
              Set tag <code>{t.key}</code> to <code>{t.value}</code>
            </li>
          ))}
          {change.tagsToDelete.map((k) => (
            <li key={`delete-${k}`}>
              Delete tag <code>{k}</code>
            </li>
          ))}
          {hostLines.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </ConfirmDialog>
    </>
  );
}
