/**
 * A model's versions as a table: status, stage, aliases, when and from where each was
 * registered, its run and description, and the controls the caller's level allows.
 */
import type { ModelVersionJson } from '../../api/registry';
import { href } from '../../routes';
import { Button } from '../../ui/button';
import { StatusDot } from '../../ui/status-dot';
import { type Column, Table } from '../../ui/table';
import { formatTime } from '../format';
import type { Abilities } from '../model';
import { canEditDescription, canManageAliases, stageTargets } from './permissions';
import type { VersionAction } from './version-dialogs';

const STATUS_WORDS: Record<ModelVersionJson['status'], string> = {
  READY: 'Ready',
  PENDING_REGISTRATION: 'Pending registration',
  FAILED_REGISTRATION: 'Failed registration',
};

function Status(props: { readonly version: ModelVersionJson }) {
  const v = props.version;
  return (
    <>
      <StatusDot state={v.status} label={STATUS_WORDS[v.status] ?? v.status} />
      {v.status !== 'READY' && v.status_message && <p class="version-status-message">{v.status_message}</p>}
    </>
  );
}

function Aliases(props: {
  readonly version: ModelVersionJson;
  readonly canDelete: boolean;
  readonly onAction: (action: VersionAction) => void;
}) {
  const aliases = props.version.aliases ?? [];
  if (aliases.length === 0) return <span class="muted">—</span>;
  return (
    <ul class="version-aliases">
      {aliases.map((alias) => (
        <li key={alias} class="tag">
          @{alias}
          {props.canDelete && (
            <button
              type="button"
              class="tag-remove"
              aria-label={`Delete alias ${alias}`}
              onClick={() => props.onAction({ kind: 'delete-alias', version: props.version, alias })}
            >
              ×
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

function Actions(props: {
  readonly version: ModelVersionJson;
  readonly abilities: Abilities;
  readonly onAction: (action: VersionAction) => void;
}) {
  const { version, abilities, onAction } = props;
  return (
    <div class="version-actions">
      {stageTargets(version, abilities).length > 0 && (
        <Button onClick={() => onAction({ kind: 'stage', version })}>Transition stage</Button>
      )}
      {canManageAliases(abilities) && (
        <Button onClick={() => onAction({ kind: 'set-alias', version })}>Set alias</Button>
      )}
      {canEditDescription(abilities) && (
        <Button onClick={() => onAction({ kind: 'description', version })}>Edit description</Button>
      )}
    </div>
  );
}

export function VersionsTable(props: {
  readonly name: string;
  readonly versions: readonly ModelVersionJson[];
  readonly loading: boolean;
  readonly selected?: string;
  readonly abilities: Abilities;
  readonly onAction: (action: VersionAction) => void;
}) {
  const { name, abilities, onAction } = props;
  const anyControl = canEditDescription(abilities) || abilities.can('CAN_MANAGE_STAGING_VERSIONS');
  const columns: Column<ModelVersionJson>[] = [
    {
      header: 'Version',
      cell: (v) => (
        <a
          href={href.model(name, 'versions', { version: v.version })}
          aria-current={v.version === props.selected ? 'true' : undefined}
        >
          Version {v.version}
        </a>
      ),
    },
    { header: 'Status', cell: (v) => <Status version={v} /> },
    { header: 'Stage', cell: (v) => v.current_stage },
    {
      header: 'Aliases',
      cell: (v) => <Aliases version={v} canDelete={canManageAliases(abilities)} onAction={onAction} />,
    },
    { header: 'Registered at', cell: (v) => formatTime(v.creation_timestamp) },
    { header: 'Source', cell: (v) => <code class="version-source">{v.source}</code> },
    { header: 'Run ID', cell: (v) => (v.run_id ? <code>{v.run_id}</code> : <span class="muted">—</span>) },
    { header: 'Description', cell: (v) => v.description || <span class="muted">—</span> },
    ...(anyControl
      ? [
          {
            header: 'Actions',
            cell: (v: ModelVersionJson) => <Actions version={v} abilities={abilities} onAction={onAction} />,
          },
        ]
      : []),
  ];
  return (
    <Table
      caption={`Versions of ${name}`}
      captionHidden
      columns={columns}
      rows={props.versions}
      rowKey={(v) => v.version}
      selected={(v) => v.version === props.selected}
      empty={props.loading ? 'Loading…' : 'No versions yet. Register one with the MLflow client or the API.'}
    />
  );
}
