import type { ComponentChildren } from 'preact';
import './field.css';

let nextId = 0;
const fieldId = () => `field-${++nextId}`;

interface Common {
  readonly label: string;
  readonly hint?: string;
  readonly id?: string;
}

export function TextField(
  props: Common & {
    readonly value: string;
    readonly onInput: (value: string) => void;
    readonly type?: 'text' | 'password' | 'search' | 'number';
    readonly placeholder?: string;
    readonly required?: boolean;
  },
) {
  const id = props.id ?? fieldId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        placeholder={props.placeholder}
        required={props.required}
        autoComplete="off"
        spellcheck={false}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.hint && <p class="field-hint">{props.hint}</p>}
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
  props: Common & { readonly checked: boolean; readonly onChange: (checked: boolean) => void },
) {
  const id = props.id ?? fieldId();
  return (
    <div class="field field-checkbox">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** A row of fields and buttons. */
export function FormRow(props: { readonly children: ComponentChildren }) {
  return <div class="form-row">{props.children}</div>;
}
