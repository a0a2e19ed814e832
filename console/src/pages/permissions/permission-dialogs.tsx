/** Adding a principal, changing its level and removing it: each confirmed, each one API call. */
import { useState } from 'preact/hooks';
import type { PermissionLevel } from '../../../../core/auth/levels';
import { updatePermissions } from '../../api/access';
import { ConfirmDialog } from '../../ui/dialog';
import { SelectField, TextField } from '../../ui/field';
import { toast } from '../../ui/toasts';
import { LEVEL_HINTS, LEVEL_LABELS, LEVEL_OPTIONS } from './levels';

export type PermissionAction =
  | { readonly kind: 'add' }
  | { readonly kind: 'change'; readonly principal: string; readonly level: PermissionLevel }
  | { readonly kind: 'remove'; readonly principal: string; readonly level: PermissionLevel };

interface Props {
  readonly open: boolean;
  readonly name: string;
  readonly action: PermissionAction;
  readonly onClose: () => void;
  readonly onDone: () => void;
}

export function PermissionDialog(props: Props) {
  const { action } = props;
  if (action.kind === 'remove') return <RemoveDialog {...props} principal={action.principal} level={action.level} />;
  return <LevelDialog {...props} />;
}

/** Add (a principal and a level) or change (a principal's level). */
function LevelDialog(props: Props) {
  const { name, action } = props;
  const [principal, setPrincipal] = useState(action.kind === 'add' ? '' : action.principal);
  const [level, setLevel] = useState<PermissionLevel>(action.kind === 'add' ? 'CAN_READ' : action.level);
  const adding = action.kind === 'add';
  return (
    <ConfirmDialog
      open={props.open}
      title={adding ? 'Add Permission' : `Change Permission of ${principal}`}
      confirmLabel={adding ? 'Add' : 'Save'}
      onClose={props.onClose}
      onConfirm={async () => {
        const who = principal.trim();
        await updatePermissions(name, [{ principal: who, permission_level: level }]);
        toast(`${who} now has ${LEVEL_LABELS[level]} on ${name}`);
        props.onDone();
      }}
    >
      {adding ? (
        <TextField
          label="Principal"
          value={principal}
          onInput={setPrincipal}
          required
          hint="A user or service principal name."
        />
      ) : (
        <p>
          {principal} has <strong>{LEVEL_LABELS[action.level]}</strong> on {name}.
        </p>
      )}
      <SelectField
        label="Permission level"
        value={level}
        onChange={(value) => setLevel(value as PermissionLevel)}
        options={LEVEL_OPTIONS}
        hint={LEVEL_HINTS[level]}
      />
    </ConfirmDialog>
  );
}

function RemoveDialog(props: Props & { readonly principal: string; readonly level: PermissionLevel }) {
  const { name, principal } = props;
  return (
    <ConfirmDialog
      open={props.open}
      danger
      title="Remove Permission"
      confirmLabel="Remove"
      onClose={props.onClose}
      onConfirm={async () => {
        await updatePermissions(name, [{ principal, permission_level: null }]);
        toast(`${principal} no longer has a permission on ${name}`);
        props.onDone();
      }}
    >
      <p>
        Remove {principal}’s <strong>{LEVEL_LABELS[props.level]}</strong> on {name}? Unless an admin, {principal} will
        no longer see or call the model.
      </p>
    </ConfirmDialog>
  );
}
