import type { ComponentChildren } from 'preact';
import './table.css';

export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => ComponentChildren;
  /** Numbers align right. */
  readonly numeric?: boolean;
}

/** A data table with a caption (visible or for screen readers) and an empty state. */
export function Table<T>(props: {
  readonly caption: string;
  readonly captionHidden?: boolean;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string;
  readonly empty?: ComponentChildren;
  readonly selected?: (row: T) => boolean;
}) {
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class={props.captionHidden ? 'visually-hidden' : undefined}>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.header} scope="col" class={c.numeric ? 'numeric' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} class="table-empty">
                {props.empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            props.rows.map((row) => (
              <tr key={props.rowKey(row)} class={props.selected?.(row) ? 'selected' : undefined}>
                {props.columns.map((c) => (
                  <td key={c.header} class={c.numeric ? 'numeric' : undefined}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
