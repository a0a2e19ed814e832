/**
 * Tokens: the caller's tokens (an admin's: every principal's, or one principal's), creating
 * one — its secret shown once, here, and never again — and revoking one. Revoked tokens are
 * left out of the list.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Identity, listTokens, type TokenInfoJson } from '../../api/access';
import { useResource } from '../../hooks/use-resource';
import { href, navigate } from '../../routes';
import { Button } from '../../ui/button';
import { ErrorBox } from '../../ui/error-box';
import { TextField } from '../../ui/field';
import { type Column, Table } from '../../ui/table';
import { formatTime } from '../format';
import { CreateTokenDialog, NewSecret, RevokeTokenDialog } from './token-dialogs';
import './tokens.css';

type TokenAction = { readonly kind: 'create' } | { readonly kind: 'revoke'; readonly token: TokenInfoJson };

export function TokensPage(props: { readonly identity?: Identity; readonly principal: string }) {
  const me = props.identity;
  const admin = me?.admin === true;
  // The admin's principal filter, kept in the URL (`#/tokens?principal=…`).
  const principal = props.principal;
  const [filter, setFilter] = useState(principal);
  // A dialog stays mounted while it closes, so the native <dialog> hands focus back to its opener.
  const [dialog, setDialog] = useState<{
    readonly action: TokenAction;
    readonly open: boolean;
    readonly key: number;
  }>();
  const open = (action: TokenAction) => setDialog((d) => ({ action, open: true, key: (d?.key ?? 0) + 1 }));
  const close = () => setDialog((d) => d && { ...d, open: false });
  const [secret, setSecret] = useState<string>();
  useEffect(() => {
    document.title = 'Tokens · mlserve';
  }, []);
  // The box follows the URL when the URL changes, not on mount, where it may already be edited.
  const shown = useRef(principal);
  useEffect(() => {
    if (shown.current === principal) return;
    shown.current = principal;
    setFilter(principal);
  }, [principal]);
  const tokens = useResource(
    async () => (await listTokens(admin && principal ? principal : undefined)).filter((t) => !t.revoked_time),
    [admin, principal],
  );
  const columns: Column<TokenInfoJson>[] = [
    {
      header: 'ID',
      cell: (t) => (
        <>
          <code>{t.token_id}</code>
          {t.token_id === me?.token_id && <span class="tag">this session</span>}
        </>
      ),
    },
    ...(admin ? [{ header: 'Principal', cell: (t: TokenInfoJson) => t.principal }] : []),
    { header: 'Description', cell: (t) => t.description || <span class="muted">—</span> },
    { header: 'Created', cell: (t) => formatTime(t.creation_time) },
    { header: 'Expires', cell: (t) => <Expiry token={t} /> },
    { header: 'Last used', cell: (t) => formatTime(t.last_used_time) },
    { header: 'Actions', cell: (t) => <Button onClick={() => open({ kind: 'revoke', token: t })}>Revoke</Button> },
  ];
  return (
    <>
      <h1>Tokens</h1>
      <p class="muted">Tokens sign in to this console and authenticate calls to the APIs and to served models.</p>
      {dialog?.action.kind === 'create' && (
        <CreateTokenDialog
          key={dialog.key}
          open={dialog.open}
          onClose={close}
          onCreated={setSecret}
          reload={tokens.reload}
        />
      )}
      {dialog?.action.kind === 'revoke' && (
        <RevokeTokenDialog
          key={dialog.key}
          open={dialog.open}
          token={dialog.action.token}
          mine={dialog.action.token.token_id === me?.token_id}
          onClose={close}
          reload={tokens.reload}
        />
      )}
      {secret && <NewSecret secret={secret} onDone={() => setSecret(undefined)} />}
      <div class="toolbar">
        {admin ? (
          <form
            class="form-row"
            aria-label="Filter tokens"
            onSubmit={(e) => {
              e.preventDefault();
              navigate(href.tokens(filter.trim()));
            }}
          >
            <TextField
              label="Principal"
              type="search"
              value={filter}
              onInput={setFilter}
              placeholder="Every principal"
            />
            <Button type="submit">Filter</Button>
          </form>
        ) : (
          <span />
        )}
        <Button variant="primary" onClick={() => open({ kind: 'create' })}>
          Create Token
        </Button>
      </div>
      <ErrorBox error={tokens.error} context="Could not list the tokens" />
      <div class="card">
        <Table
          caption={admin ? (principal ? `Tokens of ${principal}` : 'Tokens of every principal') : 'Your tokens'}
          columns={columns}
          rows={tokens.data ?? []}
          rowKey={(t) => t.token_id}
          empty={tokens.loading && !tokens.data ? 'Loading…' : 'No tokens.'}
        />
      </div>
    </>
  );
}

function Expiry(props: { readonly token: TokenInfoJson }) {
  const expiry = props.token.expiry_time;
  if (expiry === undefined) return <span class="muted">Never</span>;
  return <>{expiry <= Date.now() ? `${formatTime(expiry)} (expired)` : formatTime(expiry)}</>;
}
