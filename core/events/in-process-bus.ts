import type { DomainEvent, DomainEventType, EventPublisher } from './domain-events';

export type EventHandler = (event: DomainEvent) => Promise<void> | void;

export interface BusOptions {
  /** Called when a subscriber throws; the bus never lets one subscriber's failure reach a publisher. */
  readonly onHandlerError?: (error: unknown, event: DomainEvent) => void;
}

/**
 * The local twin's event bus: delivers each published event to the subscribers whose
 * filter matches, after the publisher's call returns (as EventBridge does), in order.
 */
export class InProcessBus implements EventPublisher {
  private readonly subscribers: { types?: ReadonlySet<DomainEventType>; handler: EventHandler }[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: BusOptions = {}) {}

  subscribe(handler: EventHandler, types?: readonly DomainEventType[]): () => void {
    const entry = { types: types ? new Set(types) : undefined, handler };
    this.subscribers.push(entry);
    return () => {
      const at = this.subscribers.indexOf(entry);
      if (at >= 0) this.subscribers.splice(at, 1);
    };
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (const event of events) {
      this.queue = this.queue.then(() => this.deliver(event));
    }
  }

  /** Resolves once every event published so far has been handled. */
  drained(): Promise<void> {
    return this.queue;
  }

  private async deliver(event: DomainEvent): Promise<void> {
    const targets = this.subscribers.filter((s) => !s.types || s.types.has(event.type));
    await Promise.all(
      targets.map(async (s) => {
        try {
          await s.handler(event);
        } catch (error) {
          this.options.onHandlerError?.(error, event);
        }
      }),
    );
  }
}
