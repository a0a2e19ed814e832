/**
 * The CLI's output: tables, `key: value` blocks and lines on stdout, progress on stderr, and
 * the server's JSON as it came with `--json`.
 */

/** Where a command writes: results to `out`, progress and errors to `err`. */
export interface Output {
  /** Prints raw JSON answers instead of text. */
  readonly json: boolean;
  line(text?: string): void;
  /** Prints `value` as JSON (indented). */
  printJson(value: unknown): void;
  /** Prints a line on stderr. */
  progress(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line: (text = '') => {
      process.stdout.write(`${text}\n`);
    },
    printJson: (value) => {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    progress: (text) => {
      process.stderr.write(`${text}\n`);
    },
  };
}

/** A table: a header row and rows of cells, columns padded to their widest cell (the last one not). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [format(headers), ...rows.map(format)].join('\n');
}

/** `key: value` lines, keys padded; entries whose value is undefined are left out. */
export function fields(entries: readonly (readonly [string, string | undefined])[]): string {
  const shown = entries.filter((e): e is readonly [string, string] => e[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`.trimEnd()).join('\n');
}

/** A millisecond timestamp as `2025-01-31 12:00:00Z` (UTC); '-' when absent. */
export function time(ms: unknown): string {
  const n = Number(ms);
  if (ms === undefined || ms === null || ms === '' || !Number.isFinite(n)) return '-';
  return new Date(n)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Tags as `k=v, k2=v2`. */
export function tagText(tags: unknown): string {
  if (!Array.isArray(tags) || tags.length === 0) return '';
  return tags.map((t: { key?: unknown; value?: unknown }) => `${t.key}=${t.value}`).join(', ');
}

/** Model aliases as `champion=2, challenger=3`. */
export function aliasText(aliases: unknown): string {
  if (!Array.isArray(aliases) || aliases.length === 0) return '';
  return aliases
    .map((a: unknown) =>
      typeof a === 'string' ? a : `${(a as { alias?: unknown }).alias}=${(a as { version?: unknown }).version}`,
    )
    .join(', ');
}

/** A possibly absent text cell. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  return String(value).replace(/\s*\n\s*/g, ' ');
}
