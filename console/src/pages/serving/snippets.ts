/**
 * Ready-to-run requests for a model URL: curl and Python `requests`, authenticated with
 * `$MLSERVE_TOKEN` from the environment — never the signed-in token itself.
 */

/** A placeholder body when there is no request to show yet. */
export const PLACEHOLDER_BODY = '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}';

const shellQuoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function curlSnippet(url: string, body: string): string {
  return [
    `curl -u token:$MLSERVE_TOKEN -X POST ${shellQuoted(url)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuoted(body.trim() || PLACEHOLDER_BODY)}`,
  ].join('\n');
}

/** A JSON value written as a Python literal (None, True, False; strings as JSON writes them). */
function pythonLiteral(value: unknown, indent: string): string {
  const inner = `${indent}    `;
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'None';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object'))
      return `[${value.map((v) => pythonLiteral(v, inner)).join(', ')}]`;
    return `[\n${value.map((v) => `${inner}${pythonLiteral(v, inner)}`).join(',\n')},\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pythonLiteral(v, inner)}`).join(',\n')},\n${indent}}`;
}

export function pythonSnippet(url: string, body: string): string {
  let payload: string;
  try {
    payload = `json=${pythonLiteral(JSON.parse(body.trim() || PLACEHOLDER_BODY), '    ')}`;
  } catch {
    // Not JSON (CSV, say): sent as it is.
    payload = `data=${JSON.stringify(body)}`;
  }
  return [
    'import os',
    '',
    'import requests',
    '',
    'response = requests.post(',
    `    ${JSON.stringify(url)},`,
    '    auth=("token", os.environ["MLSERVE_TOKEN"]),',
    `    ${payload},`,
    ')',
    'response.raise_for_status()',
    'print(response.json())',
    '',
  ].join('\n');
}
