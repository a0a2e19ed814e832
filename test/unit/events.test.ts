import { describe, expect, it } from 'vitest';
import { DomainEventSchema, domainEvent } from '../../core/events/domain-events';
import { type BusEvent, InProcessBus } from '../../core/events/in-process-bus';

describe('domain event schema', () => {
  it('stamps new events with an id and time', () => {
    const event = domainEvent({ type: 'ModelVersionReady', modelName: 'iris', version: 2 }, 1_700_000_000_000);
    expect(event).toMatchObject({ type: 'ModelVersionReady', modelName: 'iris', version: 2, time: 1_700_000_000_000 });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects events that do not fit their type', () => {
    expect(() =>
      domainEvent({
        type: 'ModelVersionStageChanged',
        modelName: 'iris',
        version: 1,
        fromStage: 'None',
        toStage: 'Live',
      } as never),
    ).toThrow();
    expect(
      DomainEventSchema.safeParse({ type: 'ModelVersionReady', modelName: 'iris', version: 0, id: 'x', time: 1 })
        .success,
    ).toBe(false);
    expect(DomainEventSchema.safeParse({ type: 'Unknown', modelName: 'iris', id: 'x', time: 1 }).success).toBe(false);
  });
});

describe('in-process bus', () => {
  const created = (version: number) =>
    domainEvent({ type: 'ModelVersionCreated', modelName: 'm', version, source: 's' });

  it('delivers events in publish order, after publish returns', async () => {
    const bus = new InProcessBus();
    const seen: number[] = [];
    bus.subscribe(async (e) => {
      await new Promise((r) => setTimeout(r, e.type === 'ModelVersionCreated' && e.version === 1 ? 20 : 0));
      if (e.type === 'ModelVersionCreated') seen.push(e.version);
    });
    await bus.publish([created(1), created(2)]);
    expect(seen).toEqual([]);
    await bus.publish([created(3)]);
    await bus.drained();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('delivers only the types a subscriber asked for', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    bus.subscribe(
      (e) => {
        seen.push(e.type);
      },
      ['RegisteredModelDeleted'],
    );
    await bus.publish([created(1), domainEvent({ type: 'RegisteredModelDeleted', modelName: 'm' })]);
    await bus.drained();
    expect(seen).toEqual(['RegisteredModelDeleted']);
  });

  it('keeps delivering to others when one subscriber fails, and reports the failure', async () => {
    const failures: BusEvent[] = [];
    const bus = new InProcessBus({ onHandlerError: (_, e) => failures.push(e) });
    let delivered = 0;
    bus.subscribe(() => {
      throw new Error('boom');
    });
    bus.subscribe(() => {
      delivered++;
    });
    await bus.publish([created(1), created(2)]);
    await bus.drained();
    expect(delivered).toBe(2);
    expect(failures).toHaveLength(2);
  });

  it('stops delivering after unsubscribe', async () => {
    const bus = new InProcessBus();
    let count = 0;
    const off = bus.subscribe(() => {
      count++;
    });
    await bus.publish([created(1)]);
    await bus.drained();
    off();
    await bus.publish([created(2)]);
    await bus.drained();
    expect(count).toBe(1);
  });
});
