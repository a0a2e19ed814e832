/**
 * Evaluates the registry table keys a state machine writes (`States.Format` over JSONPaths) on a
 * sample state input and context object, as Step Functions would: what the layout tests compare
 * with the keys the stores build.
 */
import type { AslKey, AslString, Key } from '../../core/table/layout';

/** A state's input and the execution's context object, as a state machine sees them. */
export const input = {
  modelName: 'iris-classifier',
  lookup: { Item: { modelId: { S: '5f1c2d3e-aaaa-4bbb-8ccc-0123456789ab' } } },
};
export const context = {
  State: { EnteredTime: '2026-12-07T22:00:00.123Z' },
  Execution: { Name: 'iris-classifier-run-7' },
};
export const modelId = input.lookup.Item.modelId.S;

/** Reads a JSONPath of the simple form `$.a.b` (state input) or `$$.a.b` (context object). */
function read(jsonPath: string): string {
  const [root, ...steps] = jsonPath.split('.');
  let value: unknown = root === '$$' ? context : input;
  for (const step of steps) value = (value as Record<string, unknown>)[step];
  if (typeof value !== 'string') throw new Error(`${jsonPath} is not a string`);
  return value;
}

/** Evaluates a string attribute: a literal, or `States.Format('template', paths…)` as Step Functions does. */
export function evaluate(attribute: AslString): string {
  if ('S' in attribute) return attribute.S;
  const call = /^States\.Format\('((?:[^'\\]|\\.)*)'((?:, *[$][^,)]+)*)\)$/.exec(attribute['S.$']);
  if (!call) throw new Error(`not a States.Format call: ${attribute['S.$']}`);
  const [, template = '', args = ''] = call;
  const values = args
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
    .map(read);
  const parts = template.split('{}');
  if (parts.length !== values.length + 1) throw new Error(`${values.length} arguments for ${parts.length - 1} {}`);
  return parts.map((part, i) => part + (values[i] ?? '')).join('');
}

export const evaluateKey = (key: AslKey): Key => ({ PK: evaluate(key.PK), SK: evaluate(key.SK) });
