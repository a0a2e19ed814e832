/**
 * The Permissions tab (CAN_MANAGE on the model): who may do what with the model, and the
 * controls to add a principal, change its level or remove it.
 */
import { useState } from 'preact/hooks';
import { getPermissions, type PermissionsResponse } from '../../api/access';
import { useResource } from '../../hooks/use-resource';
import { Button } from '../../ui/button';
import { ErrorBox } from '../../ui/error-box';
import { type Column, Table } from '../../ui/table';
import type { Abilities } from '../model';
import { LEVEL_LABELS } from './levels';
import { type PermissionAction, PermissionDialog } from './permission-dialogs';
import './permissions.css';

type Entry = PermissionsResponse['access_control_list'][number];

export function PermissionsTab(props: { readonly name: string; readonly abilities: Abilities }) {
  const { name, abilities } = props;
  const manager = abilities.can('CAN_MANAGE');
  const acl = useResource(() => (manager ? getPermissions(name) : Promise.resolve(undefined)), [name, manager]);
  // The dialog stays mounted while it closes, so the native <dialog> hands focus back to its opener.
  const [dialog, setDialog] = useState<{
    readonly action: PermissionAction;
    readonly open: boolean;
    readonly key: number;
  }>();
  const open = (action: PermissionAction) => setDialog((d) => ({ action, open: true, key: (d?.key ?? 0) + 1 }));
  const close = () => setDialog((d) => d && { ...d, open: false });
  if (!manager) {
    return <p class="muted">Only principals with Can Manage on {name} (and admins) see and change its permissions.</p>;
  }
  const columns: Column<Entry>[] = [
    { header: 'Principal', cell: (e) => e.principal },
    { header: 'Permission', cell: (e) => LEVEL_LABELS[e.permission_level] ?? e.permission_level },
    {
      header: 'Actions',
      cell: (e) => (
        <div class="permission-actions">
          <Button onClick={() => open({ kind: 'change', principal: e.principal, level: e.permission_level })}>
            Change level
          </Button>
          <Button
            variant="danger"
            onClick={() => open({ kind: 'remove', principal: e.principal, level: e.permission_level })}
          >
            Remove
          </Button>
        </div>
      ),
    },
  ];
  return (
    <>
      <div class="toolbar">
        <h2 class="permissions-title">Permissions</h2>
        <Button variant="primary" onClick={() => open({ kind: 'add' })}>
          Add permission
        </Button>
      </div>
      <p class="muted">Admins may do everything on every model, whatever this list says.</p>
      <ErrorBox error={acl.error} context={`Could not read the permissions of '${name}'`} />
      <div class="card">
        <Table
          caption={`Permissions on ${name}`}
          captionHidden
          columns={columns}
          rows={acl.data?.access_control_list ?? []}
          rowKey={(e) => e.principal}
          empty={acl.loading && !acl.data ? 'Loading…' : 'No principal has a permission on this model.'}
        />
      </div>
      {dialog && (
        <PermissionDialog
          key={dialog.key}
          open={dialog.open}
          name={name}
          action={dialog.action}
          onClose={close}
          onDone={() => void acl.reload()}
        />
      )}
    </>
  );
}
