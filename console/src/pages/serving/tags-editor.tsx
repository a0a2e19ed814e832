/** The serving task's tags: a table to edit values and delete tags, and a row to add one. */
import { useState } from 'preact/hooks';
import type { ServingTagJson } from '../../api/serving';
import { Button } from '../../ui/button';
import { FormRow, TextField } from '../../ui/field';
import { type Column, Table } from '../../ui/table';

export function TagsEditor(props: {
  readonly tags: readonly ServingTagJson[];
  readonly onChange: (tags: readonly ServingTagJson[]) => void;
  readonly disabled: boolean;
}) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const exists = props.tags.some((t) => t.key === key.trim());
  const edit = (k: string, v: string) =>
    props.onChange(props.tags.map((t) => (t.key === k ? { key: k, value: v } : t)));
  const columns: Column<ServingTagJson>[] = [
    { header: 'Key', cell: (t) => <code>{t.key}</code> },
    {
      header: 'Value',
      cell: (t) => (
        <input
          class="tag-value"
          aria-label={`Value of tag ${t.key}`}
          value={t.value}
          disabled={props.disabled}
          onInput={(e) => edit(t.key, (e.target as HTMLInputElement).value)}
        />
      ),
    },
    {
      header: 'Actions',
      cell: (t) => (
        <Button
          variant="link"
          label={`Delete tag ${t.key}`}
          disabled={props.disabled}
          onClick={() => props.onChange(props.tags.filter((x) => x.key !== t.key))}
        >
          Delete
        </Button>
      ),
    },
  ];
  const add = (event: Event) => {
    event.preventDefault();
    props.onChange([...props.tags, { key: key.trim(), value }]);
    setKey('');
    setValue('');
  };
  return (
    <>
      <h3>Tags</h3>
      <Table caption="Tags" captionHidden columns={columns} rows={props.tags} rowKey={(t) => t.key} empty="No tags." />
      <form class="add-tag" onSubmit={add} aria-label="Add Tag">
        <FormRow>
          <TextField label="Tag key" value={key} onInput={setKey} />
          <TextField label="Tag value" value={value} onInput={setValue} />
          <Button type="submit" disabled={props.disabled || key.trim() === '' || exists}>
            Add
          </Button>
        </FormRow>
        {exists && <p class="field-hint">A tag with this key is already in the table: edit its value there.</p>}
      </form>
    </>
  );
}
