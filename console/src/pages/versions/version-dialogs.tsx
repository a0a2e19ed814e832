/**
 * The confirmations behind each version control: stage, alias (set and delete) and
 * description. Each shows the server's error_code and message when the server refuses.
 */
import { useState } from 'preact/hooks';
import { deleteAlias, type ModelVersionJson, setAlias, updateVersionDescription } from '../../api/registry';
import { ConfirmDialog } from '../../ui/dialog';
import { TextArea, TextField } from '../../ui/field';
import { toast } from '../../ui/toasts';
import type { Abilities } from '../model';
import { stageTargets } from './permissions';
import { StageDialog } from './stage-dialog';

export type VersionAction =
  | { readonly kind: 'stage'; readonly version: ModelVersionJson }
  | { readonly kind: 'set-alias'; readonly version: ModelVersionJson }
  | { readonly kind: 'delete-alias'; readonly version: ModelVersionJson; readonly alias: string }
  | { readonly kind: 'description'; readonly version: ModelVersionJson };

interface DialogProps {
  readonly open: boolean;
  readonly name: string;
  readonly version: ModelVersionJson;
  readonly onClose: () => void;
  readonly onDone: () => void;
}

export function VersionActionDialog(
  props: Omit<DialogProps, 'version'> & { readonly action: VersionAction; readonly abilities: Abilities },
) {
  const { action, ...rest } = props;
  const common = { ...rest, version: action.version };
  switch (action.kind) {
    case 'stage':
      return <StageDialog {...common} targets={stageTargets(action.version, props.abilities)} />;
    case 'set-alias':
      return <SetAliasDialog {...common} />;
    case 'delete-alias':
      return <DeleteAliasDialog {...common} alias={action.alias} />;
    case 'description':
      return <DescriptionDialog {...common} />;
  }
}

function SetAliasDialog(props: DialogProps) {
  const { name, version } = props;
  const [alias, setAliasName] = useState('');
  return (
    <ConfirmDialog
      open={props.open}
      title="Set Alias"
      confirmLabel="Set alias"
      onClose={props.onClose}
      onConfirm={async () => {
        await setAlias(name, alias.trim(), version.version);
        toast(`Alias @${alias.trim()} now points to version ${version.version}`);
        props.onDone();
      }}
    >
      <TextField
        label="Alias"
        value={alias}
        onInput={setAliasName}
        required
        hint={`Points the alias at version ${version.version}; an alias another version holds moves here.`}
      />
    </ConfirmDialog>
  );
}

function DeleteAliasDialog(props: DialogProps & { readonly alias: string }) {
  const { name, version, alias } = props;
  return (
    <ConfirmDialog
      open={props.open}
      danger
      title="Delete Alias"
      confirmLabel="Delete alias"
      onClose={props.onClose}
      onConfirm={async () => {
        await deleteAlias(name, alias);
        toast(`Alias @${alias} deleted`);
        props.onDone();
      }}
    >
      <p>
        Delete the alias <strong>@{alias}</strong> from version {version.version} of {name}? Requests that name the
        model by @{alias} will fail until the alias is set again.
      </p>
    </ConfirmDialog>
  );
}

function DescriptionDialog(props: DialogProps) {
  const { name, version } = props;
  const [description, setDescription] = useState(version.description ?? '');
  return (
    <ConfirmDialog
      open={props.open}
      title="Edit Description"
      confirmLabel="Save"
      onClose={props.onClose}
      onConfirm={async () => {
        await updateVersionDescription(name, version.version, description);
        toast(`Description of version ${version.version} saved`);
        props.onDone();
      }}
    >
      <TextArea
        label={`Description of version ${version.version}`}
        value={description}
        onInput={setDescription}
        rows={5}
      />
    </ConfirmDialog>
  );
}
