import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type DomainEvent, domainEventEntry, type EventPublisher } from './domain-events';

/** PutEvents takes at most 10 entries a call. */
const BATCH = 10;

/** Publishes domain events to an EventBridge bus; entries EventBridge rejects are retried once, then reported. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = new EventBridgeClient({}),
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH) {
      const entries = events.slice(i, i + BATCH).map((e) => this.entry(e));
      let failed = await this.put(entries);
      if (failed.length > 0) failed = await this.put(failed);
      if (failed.length > 0) {
        throw new Error(`EventBridge rejected ${failed.length} domain event(s) on bus ${this.busName}`);
      }
    }
  }

  private entry(event: DomainEvent): PutEventsRequestEntry {
    const entry = domainEventEntry(event);
    return {
      EventBusName: this.busName,
      Source: entry.source,
      DetailType: entry.detailType,
      Time: entry.time,
      Detail: JSON.stringify(entry.detail),
    };
  }

  private async put(entries: PutEventsRequestEntry[]): Promise<PutEventsRequestEntry[]> {
    const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
    if (!out.FailedEntryCount) return [];
    return entries.filter((_, i) => out.Entries?.[i]?.ErrorCode);
  }
}
