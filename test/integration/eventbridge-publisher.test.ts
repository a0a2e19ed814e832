/**
 * The EventBridge publisher's wire format. No local EventBridge engine exists, so a
 * loopback HTTP endpoint answers PutEvents as EventBridge's JSON protocol does and records
 * what the AWS SDK sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { domainEvent } from '../../core/events/domain-events';
import { EventBridgePublisher } from '../../core/events/eventbridge-publisher';

interface PutEventsCall {
  target: string;
  entries: { Source: string; DetailType: string; Detail: string; EventBusName: string }[];
}

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Starts a PutEvents endpoint; `fail(call, i)` says which entries to reject. */
async function endpoint(fail: (call: number, index: number) => boolean) {
  const calls: PutEventsCall[] = [];
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const parsed = JSON.parse(body) as { Entries: PutEventsCall['entries'] };
    const callIndex = calls.length;
    calls.push({ target: String(req.headers['x-amz-target']), entries: parsed.Entries });
    const results = parsed.Entries.map((_, i) =>
      fail(callIndex, i)
        ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
        : { EventId: `id-${callIndex}-${i}` },
    );
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results }));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const client = new EventBridgeClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { calls, client };
}

const events = (n: number) =>
  Array.from({ length: n }, (_, i) => domainEvent({ type: 'ModelVersionReady', modelName: 'iris', version: i + 1 }));

describe('EventBridge publisher', () => {
  it('sends each event as an entry with source, detail type and the event as detail, 10 a call', async () => {
    const { calls, client } = await endpoint(() => false);
    const sent = events(12);
    await new EventBridgePublisher('mlserve-bus', client).publish(sent);
    expect(calls.map((c) => c.entries.length)).toEqual([10, 2]);
    expect(calls[0]?.target).toBe('AWSEvents.PutEvents');
    const first = calls[0]?.entries[0];
    expect(first).toMatchObject({
      Source: 'mlserve.registry',
      DetailType: 'ModelVersionReady',
      EventBusName: 'mlserve-bus',
    });
    expect(JSON.parse(first?.Detail ?? '{}')).toEqual(sent[0]);
  });

  it('retries the entries EventBridge rejected, once', async () => {
    const { calls, client } = await endpoint((call, i) => call === 0 && i === 1);
    await new EventBridgePublisher('mlserve-bus', client).publish(events(3));
    expect(calls).toHaveLength(2);
    expect(calls[1]?.entries.map((e) => JSON.parse(e.Detail).version)).toEqual([2]);
  });

  it('reports entries rejected twice', async () => {
    const { client } = await endpoint((_, i) => i === 0);
    await expect(new EventBridgePublisher('mlserve-bus', client).publish(events(2))).rejects.toThrow(
      /rejected 1 domain event/,
    );
  });
});
