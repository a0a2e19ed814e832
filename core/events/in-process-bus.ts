import { randomUUID } from 'node:crypto';
import {
  type DomainEvent,
  type DomainEventType,
  domainEventEntry,
  EVENT_SOURCE,
  type EventPublisher,
} from './domain-events';
import { type EventPattern, matchesPattern } from './event-pattern';

/** An event as EventBridge delivers it to a rule's target. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

/** An entry put on the bus, with PutEvents' fields. */
export interface BusEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: object;
  readonly time?: Date;
  readonly resources?: readonly string[];
}

/** A rule's target: what EventBridge would invoke (a Lambda handler, say) with the matched event. */
export type RuleTarget = (event: BusEvent) => unknown;
export type EventHandler = (event: DomainEvent) => Promise<void> | void;

export interface BusOptions {
  /** Called when a target throws; the bus never lets one target's failure reach a publisher. */
  readonly onHandlerError?: (error: unknown, event: BusEvent) => void;
  readonly account?: string;
  readonly region?: string;
}

/**
 * The local twin's event bus in place of EventBridge: rules match each event against their
 * pattern, as EventBridge does, and hand it to their target in EventBridge's envelope (`source`,
 * `detail-type`, `detail` as JSON). Events are delivered after the publisher's call returns, in order.
 */
export class InProcessBus implements EventPublisher {
  private readonly rules: { pattern: EventPattern; target: RuleTarget }[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: BusOptions = {}) {}

  /** Sends every event matching `pattern` to `target`; returns what removes the rule. */
  addRule(pattern: EventPattern, target: RuleTarget): () => void {
    const rule = { pattern, target };
    this.rules.push(rule);
    return () => {
      const at = this.rules.indexOf(rule);
      if (at >= 0) this.rules.splice(at, 1);
    };
  }

  /** Sends the registry's domain events (all, or of these types) to `handler`, as the event itself. */
  subscribe(handler: EventHandler, types?: readonly DomainEventType[]): () => void {
    const pattern: EventPattern = types
      ? { source: [EVENT_SOURCE], 'detail-type': [...types] }
      : { source: [EVENT_SOURCE] };
    return this.addRule(pattern, (event) => handler(event.detail as DomainEvent));
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    await this.put(events.map(domainEventEntry));
  }

  /** Puts entries on the bus, as PutEvents does. */
  async put(entries: readonly BusEntry[]): Promise<void> {
    for (const entry of entries) {
      const event = this.envelope(entry);
      this.queue = this.queue.then(() => this.deliver(event));
    }
  }

  /** Resolves once every event put so far has been handled. */
  drained(): Promise<void> {
    return this.queue;
  }

  private envelope(entry: BusEntry): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account: this.options.account ?? '000000000000',
      time: (entry.time ?? new Date()).toISOString(),
      region: this.options.region ?? 'us-east-1',
      resources: [...(entry.resources ?? [])],
      // Targets get the detail as JSON, as from EventBridge: never the publisher's own object.
      detail: JSON.parse(JSON.stringify(entry.detail)) as Record<string, unknown>,
    };
  }

  private async deliver(event: BusEvent): Promise<void> {
    const targets = this.rules.filter((r) => matchesPattern(r.pattern, event));
    await Promise.all(
      targets.map(async (r) => {
        try {
          await r.target(event);
        } catch (error) {
          this.options.onHandlerError?.(error, event);
        }
      }),
    );
  }
}
