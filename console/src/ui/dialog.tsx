import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Button } from './button';
import './dialog.css';

let nextId = 0;

/**
 * A modal confirmation built on the native <dialog> (focus kept inside, Escape closes). The
 * confirm action may be async; while it runs the buttons are busy, and its error is shown.
 */
export function ConfirmDialog(props: {
  readonly open: boolean;
  readonly title: string;
  readonly children: ComponentChildren;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  readonly onConfirm: () => Promise<void> | void;
  readonly onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [id] = useState(() => `dialog-${++nextId}`);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setError(undefined);
      dialog.showModal();
    } else if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (e) {
      const err = e as { errorCode?: string; message?: string };
      setError(err.errorCode ? `${err.errorCode}: ${err.message}` : String(err.message ?? e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={`${id}-title`} onClose={props.onClose}>
      <h2 id={`${id}-title`} class="dialog-title">
        {props.title}
      </h2>
      <div class="dialog-body">{props.children}</div>
      {error && (
        <p class="dialog-error" role="alert">
          {error}
        </p>
      )}
      <div class="dialog-actions">
        <Button onClick={props.onClose} disabled={busy}>
          Cancel
        </Button>
        <Button variant={props.danger ? 'danger' : 'primary'} onClick={() => void confirm()} busy={busy}>
          {props.confirmLabel}
        </Button>
      </div>
    </dialog>
  );
}
