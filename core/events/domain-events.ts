/**
 * The registry's domain events: one schema, shared by every producer and consumer.
 * On AWS each event is an EventBridge entry with `Source: mlserve.registry`,
 * `DetailType: <type>` and `Detail: <the event as JSON>`; in the local twin the same
 * objects travel on an in-process bus.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { STAGES } from '../shared/stages';

export const EVENT_SOURCE = 'mlserve.registry';

const base = {
  /** Unique id of this event, for de-duplication by consumers. */
  id: z.string().min(1),
  /** Milliseconds since the epoch when the change was made. */
  time: z.number().int().nonnegative(),
  modelName: z.string().min(1),
};
const versioned = { ...base, version: z.number().int().positive() };
const stage = z.enum(STAGES);

export const DomainEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('RegisteredModelCreated'), ...base }),
  z.object({ type: z.literal('RegisteredModelRenamed'), ...base, previousName: z.string().min(1) }),
  z.object({ type: z.literal('RegisteredModelDeleted'), ...base }),
  z.object({ type: z.literal('RegisteredModelTagsChanged'), ...base, key: z.string(), deleted: z.boolean() }),
  z.object({ type: z.literal('ModelVersionCreated'), ...versioned, source: z.string() }),
  z.object({ type: z.literal('ModelVersionReady'), ...versioned }),
  z.object({ type: z.literal('ModelVersionFailed'), ...versioned, reason: z.string() }),
  z.object({ type: z.literal('ModelVersionDeleted'), ...versioned }),
  z.object({ type: z.literal('ModelVersionStageChanged'), ...versioned, fromStage: stage, toStage: stage }),
  z.object({ type: z.literal('ModelVersionTagsChanged'), ...versioned, key: z.string(), deleted: z.boolean() }),
  z.object({ type: z.literal('ModelAliasSet'), ...versioned, alias: z.string().min(1) }),
  z.object({ type: z.literal('ModelAliasDeleted'), ...versioned, alias: z.string().min(1) }),
  z.object({ type: z.literal('ServingEnabled'), ...base }),
  z.object({ type: z.literal('ServingDisabled'), ...base }),
  z.object({ type: z.literal('ServingReconfigured'), ...base }),
]);

export type DomainEvent = z.infer<typeof DomainEventSchema>;
export type DomainEventType = DomainEvent['type'];
export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

/** Distributes Omit over the union so each member keeps its own fields. */
type WithoutEnvelope<E> = E extends DomainEvent ? Omit<E, 'id' | 'time'> : never;
export type NewDomainEvent = WithoutEnvelope<DomainEvent>;

export function domainEvent(event: NewDomainEvent, time = Date.now()): DomainEvent {
  return DomainEventSchema.parse({ ...event, id: randomUUID(), time });
}

/** A domain event as an EventBridge entry: the source, detail type, time and detail PutEvents takes. */
export interface DomainEventEntry {
  readonly source: typeof EVENT_SOURCE;
  readonly detailType: DomainEventType;
  readonly time: Date;
  readonly detail: DomainEvent;
}

export function domainEventEntry(event: DomainEvent): DomainEventEntry {
  return { source: EVENT_SOURCE, detailType: event.type, time: new Date(event.time), detail: event };
}

/** Publishes domain events; implemented by EventBridge on AWS and an in-process bus locally. */
export interface EventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

/** For callers that never change what events describe (the model host only reads models). */
export const NO_EVENTS: EventPublisher = { publish: async () => undefined };

/**
 * Publishes events describing a change already stored. A failure to publish does not undo the
 * change: it goes to `onError`, and the periodic reconcile converges anything that missed it.
 */
export async function publishStoredChange(
  publisher: EventPublisher,
  events: readonly NewDomainEvent[],
  now: number,
  onError?: (error: unknown, events: readonly DomainEvent[]) => void,
): Promise<void> {
  if (events.length === 0) return;
  const built = events.map((e) => domainEvent(e, now));
  try {
    await publisher.publish(built);
  } catch (error) {
    onError?.(error, built);
  }
}
