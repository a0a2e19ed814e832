/**
 * JSON as people write it: indented by two spaces, with lists of plain values (a tensor's row, a
 * DataFrame's columns) kept on one line.
 */
export function prettyJson(value: unknown): string {
  const normal: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  return write(normal, '');
}

function write(value: unknown, indent: string): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object'))
      return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => `${inner}${write(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${write(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
