/** Creating a token (its secret shown once) and revoking one. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { createToken, revokeToken, type TokenInfoJson } from '../../api/access';
import { Button } from '../../ui/button';
import { CopyButton } from '../../ui/copy-button';
import { ConfirmDialog } from '../../ui/dialog';
import { TextField } from '../../ui/field';
import { toast } from '../../ui/toasts';

const DAY_SECONDS = 24 * 3600;

export function CreateTokenDialog(props: {
  readonly open: boolean;
  readonly onClose: () => void;
  readonly onCreated: (secret: string) => void;
  readonly reload: () => Promise<void>;
}) {
  const [description, setDescription] = useState('');
  const [days, setDays] = useState('90');
  return (
    <ConfirmDialog
      open={props.open}
      title="Create Token"
      confirmLabel="Create"
      onClose={props.onClose}
      onConfirm={async () => {
        const lifetime = days.trim() === '' ? undefined : Number(days);
        if (lifetime !== undefined && !(Number.isInteger(lifetime) && lifetime > 0)) {
          throw new Error('The lifetime is a whole number of days (or empty, for a token that never expires).');
        }
        const created = await createToken(
          description.trim(),
          lifetime === undefined ? undefined : lifetime * DAY_SECONDS,
        );
        props.onCreated(created.token_value);
        toast('Token created');
        await props.reload();
      }}
    >
      <TextField label="Description" value={description} onInput={setDescription} hint="What the token is for." />
      <TextField
        label="Lifetime (days)"
        type="number"
        value={days}
        onInput={setDays}
        hint="Leave empty for a token that never expires."
      />
    </ConfirmDialog>
  );
}

/** The new token's secret: the only time it is shown. Focus moves to it once the create dialog has closed. */
export function NewSecret(props: { readonly secret: string; readonly onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const focus = () => heading.current?.focus();
    // The dialog hands focus back to its opener as it closes; take it after that.
    const dialog = document.querySelector<HTMLDialogElement>('dialog[open]');
    if (!dialog) {
      focus();
      return;
    }
    dialog.addEventListener('close', focus, { once: true });
    return () => dialog.removeEventListener('close', focus);
  }, []);
  return (
    <section class="card token-secret" aria-labelledby="token-secret-title">
      <h2 id="token-secret-title" ref={heading} tabIndex={-1}>
        Your new token
      </h2>
      <p class="token-secret-warning" role="alert">
        Copy this token now and keep it somewhere safe: it will not be shown again.
      </p>
      <div class="token-secret-value">
        <code>{props.secret}</code>
        <CopyButton text={props.secret} label="Copy the new token" />
      </div>
      <Button onClick={props.onDone}>Done</Button>
    </section>
  );
}

export function RevokeTokenDialog(props: {
  readonly open: boolean;
  readonly token: TokenInfoJson;
  readonly mine: boolean;
  readonly onClose: () => void;
  readonly reload: () => Promise<void>;
}) {
  const { token } = props;
  return (
    <ConfirmDialog
      open={props.open}
      danger
      title="Revoke Token"
      confirmLabel="Revoke"
      onClose={props.onClose}
      onConfirm={async () => {
        await revokeToken(token.token_id);
        toast(`Token ${token.token_id} revoked`);
        await props.reload();
      }}
    >
      <p>
        Revoke token <code>{token.token_id}</code>
        {token.description ? ` (${token.description})` : ''}? Calls made with it will be refused.
      </p>
      {props.mine && <p class="dialog-error">This is the token you are signed in with: revoking it signs you out.</p>}
    </ConfirmDialog>
  );
}
