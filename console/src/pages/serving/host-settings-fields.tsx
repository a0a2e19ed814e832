/**
 * Request batching and workers per version in Compute Settings: what the running task applies
 * without a new task. Each setting may be left to the host (an empty field, Automatic, or the
 * Batching box neither checked nor unchecked).
 */
import { SERVING_SETTING_LIMITS } from '../../../../core/registry/model';
import { Button } from '../../ui/button';
import { CheckboxField, FormRow, SelectField, TextField } from '../../ui/field';
import { AUTOMATIC, type HostSettingsDraft, problemsOf } from './host-settings';

const { maxBatchRows, maxWaitMs, workersPerVersion } = SERVING_SETTING_LIMITS;

const WORKER_OPTIONS = [
  { value: AUTOMATIC, label: "Automatic (from the task's vCPUs)" },
  ...Array.from({ length: workersPerVersion.max - workersPerVersion.min + 1 }, (_, i) => {
    const n = String(workersPerVersion.min + i);
    return { value: n, label: n };
  }),
];

export function HostSettingsFields(props: {
  readonly draft: HostSettingsDraft;
  readonly onChange: (draft: HostSettingsDraft) => void;
  readonly disabled: boolean;
}) {
  const { draft, disabled } = props;
  const set = (change: Partial<HostSettingsDraft>) => props.onChange({ ...draft, ...change });
  const problems = problemsOf(draft);
  const batchingSet = draft.enabled !== undefined || draft.maxBatchRows !== '' || draft.maxWaitMs !== '';
  return (
    <>
      <h3>Request batching</h3>
      <p class="muted">
        Concurrent requests to one version are scored together in one call. The running task applies changes at once; no
        new task starts.
      </p>
      <CheckboxField
        label="Batching"
        checked={draft.enabled === true}
        indeterminate={draft.enabled === undefined}
        disabled={disabled}
        onChange={(enabled) => set({ enabled })}
        hint={draft.enabled === undefined ? "Not set: the model host's default applies." : undefined}
      />
      <FormRow>
        <TextField
          label="Max batch rows"
          type="number"
          min={maxBatchRows.min}
          max={maxBatchRows.max}
          value={draft.maxBatchRows}
          onInput={(value) => set({ maxBatchRows: value })}
          disabled={disabled}
          hint={`${maxBatchRows.min}–${maxBatchRows.max.toLocaleString('en-US')}; empty: the host's default.`}
          error={problems.maxBatchRows}
        />
        <TextField
          label="Max wait (ms)"
          type="number"
          min={maxWaitMs.min}
          max={maxWaitMs.max}
          value={draft.maxWaitMs}
          onInput={(value) => set({ maxWaitMs: value })}
          disabled={disabled}
          hint={`${maxWaitMs.min}–${maxWaitMs.max} ms; empty: the host's default.`}
          error={problems.maxWaitMs}
        />
      </FormRow>
      {batchingSet && !disabled && (
        <p class="settings-reset">
          <Button variant="link" onClick={() => set({ enabled: undefined, maxBatchRows: '', maxWaitMs: '' })}>
            Use the host's batching defaults
          </Button>
        </p>
      )}
      <h3>Workers</h3>
      <SelectField
        label="Workers per version"
        value={draft.workers}
        onChange={(workers) => set({ workers })}
        options={WORKER_OPTIONS}
        disabled={disabled}
        hint="Worker processes each Python version runs. Applied by the running task."
      />
    </>
  );
}
