/**
 * The Versions tab: every version of the model (polled, so new versions and registration
 * results appear on their own), the controls the caller's level allows, and the selected
 * version's detail (`?version=N`).
 */
import { useState } from 'preact/hooks';
import { listVersions } from '../../api/registry';
import { useResource } from '../../hooks/use-resource';
import { ErrorBox } from '../../ui/error-box';
import type { Abilities, ModelRoute } from '../model';
import { VersionDetail } from './version-detail';
import { type VersionAction, VersionActionDialog } from './version-dialogs';
import { VersionsTable } from './versions-table';
import './versions.css';

export function VersionsTab(props: { readonly route: ModelRoute; readonly abilities: Abilities }) {
  const { name, version } = props.route;
  const versions = useResource(() => listVersions(name), [name], { pollMs: 5000 });
  // The dialog stays mounted while it closes, so the native <dialog> hands focus back to its opener.
  const [dialog, setDialog] = useState<{
    readonly action: VersionAction;
    readonly open: boolean;
    readonly key: number;
  }>();
  const open = (action: VersionAction) => setDialog((d) => ({ action, open: true, key: (d?.key ?? 0) + 1 }));
  const close = () => setDialog((d) => d && { ...d, open: false });
  return (
    <>
      <h2 class="visually-hidden">Versions</h2>
      <ErrorBox error={versions.error} context={`Could not list the versions of '${name}'`} />
      <div class="card">
        <VersionsTable
          name={name}
          versions={versions.data ?? []}
          loading={versions.loading && !versions.data}
          selected={version}
          abilities={props.abilities}
          onAction={open}
        />
      </div>
      {version && (
        <VersionDetail name={name} version={version} model={versions.data?.find((v) => v.version === version)} />
      )}
      {dialog && (
        <VersionActionDialog
          key={dialog.key}
          open={dialog.open}
          name={name}
          action={dialog.action}
          abilities={props.abilities}
          onClose={close}
          onDone={() => void versions.reload()}
        />
      )}
    </>
  );
}
