import type { ComponentChildren } from 'preact';
import './button.css';

export interface ButtonProps {
  readonly children: ComponentChildren;
  readonly onClick?: () => void;
  readonly variant?: 'primary' | 'secondary' | 'danger' | 'link';
  readonly type?: 'button' | 'submit';
  /** Disabled, with the reason shown beside the button (and as its description). */
  readonly disabledReason?: string;
  readonly disabled?: boolean;
  readonly busy?: boolean;
  readonly label?: string;
}

let nextId = 0;

/** A button; when disabled for a reason, the reason is visible text, not only a tooltip. */
export function Button(props: ButtonProps) {
  const reasonId = props.disabledReason ? `reason-${++nextId}` : undefined;
  const disabled = props.disabled || props.busy || props.disabledReason !== undefined;
  return (
    <span class="button-wrap">
      <button
        type={props.type ?? 'button'}
        class={`button button-${props.variant ?? 'secondary'}`}
        onClick={props.onClick}
        disabled={disabled}
        aria-busy={props.busy ? 'true' : undefined}
        aria-describedby={reasonId}
        aria-label={props.label}
      >
        {props.children}
      </button>
      {props.disabledReason && (
        <span id={reasonId} class="button-reason">
          {props.disabledReason}
        </span>
      )}
    </span>
  );
}
