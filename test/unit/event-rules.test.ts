import { describe, expect, it } from 'vitest';
import { REGISTRY_EVENTS_RULE, taskStoppedRule, VERSION_CREATED_RULE } from '../../core/deploy/event-rules';
import { domainEvent, type NewDomainEvent } from '../../core/events/domain-events';
import { matchesPattern } from '../../core/events/event-pattern';
import { type BusEvent, InProcessBus } from '../../core/events/in-process-bus';

const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/mlserve';
const SERVICE = 'mlserve-0b7c2a8e-1f0e-4a1b-9a53-1f4f3c1b2d3e';

/** A registry event as EventBridge delivers it. */
const registryEvent = (event: NewDomainEvent) => ({
  source: 'mlserve.registry',
  'detail-type': event.type,
  detail: domainEvent(event),
});
const taskEvent = (detail: Record<string, unknown>) => ({
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  detail: { clusterArn: CLUSTER, lastStatus: 'STOPPED', group: `service:${SERVICE}`, ...detail },
});

describe('event patterns', () => {
  it('match any listed value, a prefix, any element of an array field, and nested fields', () => {
    const pattern = { source: ['a', 'b'], detail: { group: [{ prefix: 'service:' }], tags: ['x'] } };
    expect(matchesPattern(pattern, { source: 'b', detail: { group: 'service:s', tags: ['y', 'x'] } })).toBe(true);
    expect(matchesPattern(pattern, { source: 'c', detail: { group: 'service:s', tags: ['x'] } })).toBe(false);
    expect(matchesPattern(pattern, { source: 'a', detail: { group: 'family:s', tags: ['x'] } })).toBe(false);
    expect(matchesPattern(pattern, { source: 'a', detail: { group: 'service:s', tags: [] } })).toBe(false);
  });

  it('need every field they name, and an object where they nest', () => {
    expect(matchesPattern({ source: ['a'], detail: { lastStatus: ['STOPPED'] } }, { source: 'a' })).toBe(false);
    expect(matchesPattern({ detail: { lastStatus: ['STOPPED'] } }, { detail: 'STOPPED' })).toBe(false);
    expect(matchesPattern({ detail: { count: [0] } }, { detail: { count: 0 } })).toBe(true);
    expect(matchesPattern({ detail: { count: [0] } }, { detail: { count: '0' } })).toBe(false);
  });
});

describe('the deploy rules', () => {
  it('send the registry changes that change what a model serves to the deploy trigger, and no others', () => {
    expect(
      matchesPattern(
        REGISTRY_EVENTS_RULE.pattern,
        registryEvent({ type: 'ModelAliasSet', modelName: 'm', version: 1, alias: 'a' }),
      ),
    ).toBe(true);
    expect(
      matchesPattern(REGISTRY_EVENTS_RULE.pattern, registryEvent({ type: 'RegisteredModelCreated', modelName: 'm' })),
    ).toBe(false);
    expect(
      matchesPattern(REGISTRY_EVENTS_RULE.pattern, {
        ...registryEvent({ type: 'ServingEnabled', modelName: 'm' }),
        source: 'x',
      }),
    ).toBe(false);
  });

  it('send every new version, and only that, to the registration check', () => {
    const created = registryEvent({ type: 'ModelVersionCreated', modelName: 'm', version: 1, source: 's' });
    expect(matchesPattern(VERSION_CREATED_RULE.pattern, created)).toBe(true);
    expect(
      matchesPattern(
        VERSION_CREATED_RULE.pattern,
        registryEvent({ type: 'ModelVersionReady', modelName: 'm', version: 1 }),
      ),
    ).toBe(false);
  });

  it("send the stopped tasks of the cluster's model services to the deploy trigger", () => {
    const rule = taskStoppedRule(CLUSTER);
    expect(matchesPattern(rule.pattern, taskEvent({ stopCode: 'EssentialContainerExited' }))).toBe(true);
    expect(matchesPattern(rule.pattern, taskEvent({ lastStatus: 'RUNNING' }))).toBe(false);
    expect(matchesPattern(rule.pattern, taskEvent({ clusterArn: `${CLUSTER}-other` }))).toBe(false);
    expect(matchesPattern(rule.pattern, taskEvent({ group: 'service:something-else' }))).toBe(false);
    expect(matchesPattern(rule.pattern, { ...taskEvent({}), 'detail-type': 'ECS Service Action' })).toBe(false);
  });
});

describe('the in-process bus', () => {
  it("hands a rule's target the events its pattern matches, in EventBridge's envelope", async () => {
    const bus = new InProcessBus();
    const seen: BusEvent[] = [];
    bus.addRule(taskStoppedRule(CLUSTER).pattern, (e) => {
      seen.push(e);
    });
    const detail = taskEvent({ stopCode: 'UserInitiated' }).detail;
    await bus.put([{ source: 'aws.ecs', detailType: 'ECS Task State Change', detail, resources: ['arn:task'] }]);
    await bus.put([
      { source: 'aws.ecs', detailType: 'ECS Task State Change', detail: { ...detail, lastStatus: 'RUNNING' } },
    ]);
    const created = domainEvent({ type: 'ModelVersionCreated', modelName: 'm', version: 1, source: 's' });
    await bus.publish([created]);
    await bus.drained();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      source: 'aws.ecs',
      'detail-type': 'ECS Task State Change',
      resources: ['arn:task'],
      detail,
    });
    expect(seen[0]?.detail).not.toBe(detail);
    expect(Date.parse(seen[0]?.time ?? '')).toBeGreaterThan(0);
  });
});
