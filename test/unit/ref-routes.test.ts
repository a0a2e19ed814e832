import { describe, expect, it } from 'vitest';
import { RefRoutes, refKeyOf, registryHolders } from '../../container/src/ref-routes';
import type { ModelVersion, RegisteredModel, VersionServingState } from '../../core/registry/model';

const model = (aliases: Record<string, number> = {}) => ({ aliases }) as unknown as RegisteredModel;
const version = (n: number, stage: ModelVersion['currentStage'], status: ModelVersion['status'] = 'READY') =>
  ({ version: n, currentStage: stage, status }) as unknown as ModelVersion;

describe('refKeyOf', () => {
  it('names stages in any case and aliases; not version numbers or other words', () => {
    expect(refKeyOf('production')).toBe('stage:Production');
    expect(refKeyOf('Staging')).toBe('stage:Staging');
    expect(refKeyOf('@champion')).toBe('alias:champion');
    expect(refKeyOf('3')).toBeUndefined();
    expect(refKeyOf('Archived')).toBeUndefined();
  });
});

describe('registryHolders', () => {
  it('gives each stage its highest READY version and each alias its version', () => {
    const holders = registryHolders(model({ champion: 1 }), [
      version(1, 'Production'),
      version(2, 'Production'),
      version(3, 'Production', 'PENDING_REGISTRATION'),
      version(4, 'Staging'),
      version(5, 'Archived'),
    ]);
    expect(Object.fromEntries(holders)).toEqual({ 'stage:Production': 2, 'stage:Staging': 4, 'alias:champion': 1 });
  });
});

describe('RefRoutes', () => {
  const states = (s: Record<number, VersionServingState>) => (v: number) => s[v];

  it('keeps the old holder answering while the new one loads, then moves', () => {
    const routes = new RefRoutes();
    routes.update(new Map([['stage:Production', 2]]), states({ 2: 'READY' }));
    routes.update(new Map([['stage:Production', 1]]), states({ 1: 'LOADING', 2: 'READY' }));
    expect(routes.holderOf('stage:Production')).toBe(2);
    expect([...routes.handingOver()]).toEqual([2]);
    expect(routes.handovers()).toEqual([{ ref: 'stage:Production', from: 2, to: 1 }]);
    routes.update(new Map([['stage:Production', 1]]), states({ 1: 'READY', 2: 'READY' }));
    expect(routes.holderOf('stage:Production')).toBe(1);
    expect(routes.handingOver().size).toBe(0);
  });

  it('moves at once when the new holder is READY, FAILED or not served, or the old one cannot answer', () => {
    for (const [want, have] of [
      ['FAILED', 'READY'],
      ['READY', 'READY'],
      [undefined, 'READY'],
      ['LOADING', 'LOADING'],
      ['LOADING', 'FAILED'],
    ] as const) {
      const routes = new RefRoutes();
      routes.update(new Map([['alias:a', 1]]), states({ 1: 'READY' }));
      const next: Record<number, VersionServingState> = {};
      if (want) next[2] = want;
      next[1] = have;
      routes.update(new Map([['alias:a', 2]]), states(next));
      expect(routes.holderOf('alias:a')).toBe(2);
    }
  });

  it('forgets a ref the registry no longer has', () => {
    const routes = new RefRoutes();
    routes.update(new Map([['alias:a', 1]]), states({ 1: 'READY' }));
    routes.update(new Map(), states({ 1: 'READY' }));
    expect(routes.holderOf('alias:a')).toBeUndefined();
  });
});
