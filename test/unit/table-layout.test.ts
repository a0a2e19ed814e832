import { describe, expect, it } from 'vitest';
import {
  asl,
  environmentClaimKey,
  eventKey,
  hostReportKey,
  modelKey,
  nameKey,
  servingModelKey,
  versionKey,
} from '../../core/table/layout';
import { context, evaluateKey, input, modelId } from '../helpers/asl-keys';

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

  it("keeps an environment's build claim in a partition of its own, apart from every model's items", () => {
    const claim = environmentClaimKey('ab12');
    expect(claim).toEqual({ PK: 'ENV#ab12', SK: 'CLAIM' });
    expect(claim.PK.startsWith(modelKey('ab12').PK)).toBe(false);
    expect(environmentClaimKey('cd34').PK).not.toBe(claim.PK);
  });

  it('orders version sort keys by number, and keeps them under their model', () => {
    const keys = [10, 9, 100, 1].map((v) => versionKey('m1', v));
    expect(keys.every((k) => k.PK === modelKey('m1').PK)).toBe(true);
    expect(keys.map((k) => k.SK).sort()).toEqual([1, 9, 10, 100].map((v) => versionKey('m1', v).SK));
    expect(versionKey('m1', 7).SK).toBe('VERSION#0000000007');
  });
});
