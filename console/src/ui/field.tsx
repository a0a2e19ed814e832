import type { ComponentChildren } from 'preact';
import './field.css';

let nextId = 0;
const fieldId = () => `field-${++nextId}`;

interface Common {
  readonly label: string;
  readonly hint?: string;
  readonly id?: string;
}

/** The field's hint, or its error instead (announced, and marking the input invalid). */
function Note(props: { readonly id: string; readonly hint?: string; readonly error?: string }) {
  if (props.error) {
    return (
      <p id={props.id} class="field-error" role="alert">
        {props.error}
      </p>
    );
  }
  return props.hint ? (
    <p id={props.id} class="field-hint">
      {props.hint}
    </p>
  ) : null;
}

export function TextField(
  props: Common & {
    readonly value: string;
    readonly onInput: (value: string) => void;
    readonly type?: 'text' | 'password' | 'search' | 'number';
    readonly placeholder?: string;
    readonly required?: boolean;
    readonly disabled?: boolean;
    /** For numbers: the range the browser offers (the server checks it again). */
    readonly min?: number;
    readonly max?: number;
    /** What is wrong with the value; shown in place of the hint. */
    readonly error?: string;
  },
) {
  const id = props.id ?? fieldId();
  const noted = props.hint || props.error;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        placeholder={props.placeholder}
        required={props.required}
        disabled={props.disabled}
        min={props.min}
        max={props.max}
        step={props.type === 'number' ? 1 : undefined}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={noted ? `${id}-note` : undefined}
        autoComplete="off"
        spellcheck={false}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      <Note id={`${id}-note`} hint={props.hint} error={props.error} />
    </div>
  );
}

export function TextArea(
  props: Common & { readonly value: string; readonly onInput: (value: string) => void; readonly rows?: number },
) {
  const id = props.id ?? fieldId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        rows={props.rows ?? 6}
        value={props.value}
        spellcheck={false}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
      />
      {props.hint && <p class="field-hint">{props.hint}</p>}
    </div>
  );
}

export function SelectField(
  props: Common & {
    readonly value: string;
    readonly onChange: (value: string) => void;
    readonly options: readonly { readonly value: string; readonly label: string }[];
    readonly disabled?: boolean;
  },
) {
  const id = props.id ?? fieldId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.hint && <p class="field-hint">{props.hint}</p>}
    </div>
  );
}

export function CheckboxField(
  props: Common & {
    readonly checked: boolean;
    readonly onChange: (checked: boolean) => void;
    readonly disabled?: boolean;
    /** Neither on nor off (a setting left to its default): shown, and announced, as mixed. */
    readonly indeterminate?: boolean;
  },
) {
  const id = props.id ?? fieldId();
  const box = (
    <div class="field field-checkbox">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        indeterminate={props.indeterminate === true}
        disabled={props.disabled}
        aria-describedby={props.hint ? `${id}-note` : undefined}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
    </div>
  );
  if (!props.hint) return box;
  return (
    <div class="field">
      {box}
      <Note id={`${id}-note`} hint={props.hint} />
    </div>
  );
}

/** A row of fields and buttons. */
export function FormRow(props: { readonly children: ComponentChildren }) {
  return <div class="form-row">{props.children}</div>;
}
