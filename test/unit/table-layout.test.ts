import { describe, expect, it } from 'vitest';
import {
  type AslKey,
  type AslString,
  asl,
  eventKey,
  hostReportKey,
  type Key,
  modelKey,
  nameKey,
  servingModelKey,
  versionKey,
} from '../../core/table/layout';

/** A state's input and the execution's context object, as a state machine sees them. */
const input = {
  modelName: 'iris-classifier',
  lookup: { Item: { modelId: { S: '5f1c2d3e-aaaa-4bbb-8ccc-0123456789ab' } } },
};
const context = { State: { EnteredTime: '2026-12-07T22:00:00.123Z' }, Execution: { Name: 'iris-classifier-run-7' } };
const modelId = input.lookup.Item.modelId.S;

/** Reads a JSONPath of the simple form `$.a.b` (state input) or `$$.a.b` (context object). */
function read(jsonPath: string): string {
  const [root, ...steps] = jsonPath.split('.');
  let value: unknown = root === '$$' ? context : input;
  for (const step of steps) value = (value as Record<string, unknown>)[step];
  if (typeof value !== 'string') throw new Error(`${jsonPath} is not a string`);
  return value;
}

/** Evaluates a string attribute: a literal, or `States.Format('template', paths…)` as Step Functions does. */
function evaluate(attribute: AslString): string {
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

const evaluateKey = (key: AslKey): Key => ({ PK: evaluate(key.PK), SK: evaluate(key.SK) });

describe('table layout', () => {
  it("gives a state machine the keys the stores write, for the same model's items", () => {
    const id = '$.lookup.Item.modelId.S';
    expect(evaluateKey(asl.nameKey('$.modelName'))).toEqual(nameKey(input.modelName));
    expect(evaluateKey(asl.modelKey(id))).toEqual(modelKey(modelId));
    expect(evaluateKey(asl.servingModelKey(id))).toEqual(servingModelKey(modelId));
    expect(evaluateKey(asl.hostReportKey(id))).toEqual(hostReportKey(modelId));
    expect(evaluateKey(asl.eventKey(id, '$$.State.EnteredTime', '$$.Execution.Name'))).toEqual(
      eventKey(modelId, context.State.EnteredTime, context.Execution.Name),
    );
  });

  it('spells the keys as the table has always held them', () => {
    expect(nameKey('iris')).toEqual({ PK: 'NAME#iris', SK: 'NAME' });
    expect(servingModelKey('m1')).toEqual({ PK: 'MODEL#m1', SK: 'SERVING#MODEL' });
    expect(asl.servingModelKey('$.lookup.Item.modelId.S')).toEqual({
      PK: { 'S.$': "States.Format('MODEL#{}', $.lookup.Item.modelId.S)" },
      SK: { S: 'SERVING#MODEL' },
    });
    expect(eventKey('m1', '2026-01-01T00:00:00.000Z', 'u').SK).toBe('EVENT#2026-01-01T00:00:00.000Z#u');
  });

  it('orders version sort keys by number, and keeps them under their model', () => {
    const keys = [10, 9, 100, 1].map((v) => versionKey('m1', v));
    expect(keys.every((k) => k.PK === modelKey('m1').PK)).toBe(true);
    expect(keys.map((k) => k.SK).sort()).toEqual([1, 9, 10, 100].map((v) => versionKey('m1', v).SK));
    expect(versionKey('m1', 7).SK).toBe('VERSION#0000000007');
  });
});
