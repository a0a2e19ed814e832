/** Moving a version to another stage, optionally archiving the versions already there. */
import { useState } from 'preact/hooks';
import { type ModelVersionJson, transitionStage } from '../../api/registry';
import { ConfirmDialog } from '../../ui/dialog';
import { CheckboxField, SelectField } from '../../ui/field';
import { toast } from '../../ui/toasts';
import type { Stage } from './permissions';

export function StageDialog(props: {
  readonly open: boolean;
  readonly name: string;
  readonly version: ModelVersionJson;
  /** The stages the caller may move it to (never empty). */
  readonly targets: readonly Stage[];
  readonly onClose: () => void;
  readonly onDone: () => void;
}) {
  const { name, version } = props;
  const [stage, setStage] = useState<Stage>(props.targets[0] ?? 'None');
  const [archive, setArchive] = useState(false);
  const archivable = stage === 'Staging' || stage === 'Production';
  return (
    <ConfirmDialog
      open={props.open}
      title="Stage Transition"
      confirmLabel="Transition"
      onClose={props.onClose}
      onConfirm={async () => {
        await transitionStage(name, version.version, stage, archivable && archive);
        toast(`Version ${version.version} moved to ${stage}`);
        props.onDone();
      }}
    >
      <p>
        Version {version.version} of {name} is in <strong>{version.current_stage}</strong>.
      </p>
      <SelectField
        label="Transition to"
        value={stage}
        onChange={(value) => setStage(value as Stage)}
        options={props.targets.map((s) => ({ value: s, label: s }))}
      />
      {archivable && (
        <>
          <CheckboxField label="Archive existing versions" checked={archive} onChange={setArchive} />
          <p class="field-hint">Checked, the versions now in {stage} move to Archived.</p>
        </>
      )}
    </ConfirmDialog>
  );
}
