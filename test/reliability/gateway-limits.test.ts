/**
 * The twin's gateway holds every request to API Gateway's payload limit (10 MiB) before it
 * forwards anything: an oversize body is answered 413 (never a 502 that tells the client to
 * retry), whether it declares its length or streams without one, on the model route and on
 * the Lambda routes alike; a serving task's own early answer is passed on as it is.
 */
import { cp } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalLoadBalancer } from '../../twin/aws/local-load-balancer';
import { type Gateway, MAX_BODY_BYTES, startGateway } from '../../twin/gateway';
import { modelProxy } from '../../twin/model-proxy';
import { eventually } from '../helpers/eventually';
import { REPO_ROOT } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const MiB = 1024 * 1024;
const MODEL = 'limits';
const IRIS = { inputs: [[5.1, 3.5, 1.4, 0.2]] };

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/**
 * POSTs `body` (a Buffer, or a byte count of filler) in 64 KiB chunks as a client streaming it
 * would: with Content-Length, or chunked (none), sending all of it even after an early answer.
 * Resolves with the answer, even one that comes before the whole body was sent; rejects if the
 * connection fails first. Bounded by `timeoutMs`.
 */
function post(
  url: string,
  body: Buffer | number,
  options: { chunked?: boolean; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const size = typeof body === 'number' ? body : body.length;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  if (!options.chunked) headers['Content-Length'] = String(size);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          text,
          get json() {
            return JSON.parse(text) as Record<string, unknown>;
          },
        });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error('no answer in time')), options.timeoutMs ?? 30_000);
    req.on('error', (error) => {
      if (answered) return; // a body still being written when the answer came
      clearTimeout(timer);
      reject(error);
    });
    const filler = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(filler.length, size - sent);
        const chunk = typeof body === 'number' ? filler.subarray(0, n) : body.subarray(sent, sent + n);
        sent += n;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** The gateway's own refusal (not the model host's, whose limit is 16 MiB). */
function expectGatewayRefusal(answer: Answer): void {
  expect(answer.status, answer.text).toBe(413);
  expect(answer.json).toEqual({
    error_code: 'BAD_REQUEST',
    message: `Request body exceeds the ${MAX_BODY_BYTES} byte limit.`,
  });
}

describe('the gateway in front of a served model', () => {
  let twin: TestTwin;
  let invocations: string;

  beforeAll(async () => {
    twin = await startTestTwin();
    invocations = `${twin.url}/model/${MODEL}/1/invocations`;
    const dir = path.join(twin.artifactDir, MODEL, '1');
    await cp(path.join(REPO_ROOT, 'twin/demo/iris-onnx'), dir, { recursive: true });
    await twin.registry.createRegisteredModel({ name: MODEL });
    await twin.registry.createModelVersion({ name: MODEL, source: pathToFileURL(dir).href });
    await eventually(async () => expect((await twin.registry.getModelVersion(MODEL, 1)).status).toBe('READY'), 10_000);
    await twin.serving.enableServing(MODEL);
    await eventually(
      async () =>
        expect((await post(invocations, Buffer.from(JSON.stringify(IRIS)), { headers: twin.adminAuth })).status).toBe(
          200,
        ),
      120_000,
      250,
    );
  }, 150_000);

  afterAll(async () => {
    await twin?.close();
  });

  it('answers a 20 MiB body with Content-Length 413, without forwarding it', async () => {
    expectGatewayRefusal(await post(invocations, 20 * MiB, { headers: twin.adminAuth }));
  });

  it('answers a 20 MiB chunked body (no Content-Length) 413 once it passes the limit', async () => {
    expectGatewayRefusal(await post(invocations, 20 * MiB, { chunked: true, headers: twin.adminAuth }));
  });

  it('forwards a body just under the limit: the model host answers it', async () => {
    const json = JSON.stringify(IRIS);
    const padded = Buffer.alloc(MAX_BODY_BYTES - 1024, 0x20);
    padded.write(json, 0);
    const answer = await post(invocations, padded, { headers: twin.adminAuth });
    expect(answer.status, answer.text).toBeLessThan(500);
    expect(answer.status, answer.text).not.toBe(413);
    expect(answer.status, answer.text).toBe(200);
  });

  it('answers a 20 MiB body to a Lambda route 413, with or without Content-Length', async () => {
    const create = `${twin.url}/api/2.0/mlflow/registered-models/create`;
    expectGatewayRefusal(await post(create, 20 * MiB, { headers: twin.adminAuth }));
    expectGatewayRefusal(await post(create, 20 * MiB, { chunked: true, headers: twin.adminAuth }));
  });

  it('still scores a normal request afterwards', async () => {
    const answer = await post(invocations, Buffer.from(JSON.stringify(IRIS)), { headers: twin.adminAuth });
    expect(answer.status, answer.text).toBe(200);
    expect((answer.json.predictions as { label: number[] }).label).toEqual([0]);
  });
});

/** A serving task stand-in: records what reached it; `early` answers 413 on the headers and closes, as the model host does over its limit. */
function fakeTask(mode: 'early' | 'reads'): Promise<{ server: Server; url: string; received: number[] }> {
  const received: number[] = [];
  const server = createServer((req, res) => {
    if (mode === 'early') {
      const body = JSON.stringify({
        error_code: 'BAD_REQUEST',
        message: 'Request body exceeds the limit of 1024 bytes.',
      });
      res.writeHead(413, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        Connection: 'close',
      });
      res.end(body);
      req.destroy();
      return;
    }
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('close', () => received.push(n));
    req.on('end', () => res.end('{}'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }),
    ),
  );
}

describe('the model route against a serving task', () => {
  const started: { close(): unknown }[] = [];
  afterAll(async () => {
    for (const s of started) await s.close();
  });

  async function gatewayTo(task: string): Promise<Gateway> {
    const loadBalancer = { route: () => task, claims: () => true } as unknown as LocalLoadBalancer;
    const gateway = await startGateway([{ prefix: '/model/', forward: modelProxy(loadBalancer) }], 0);
    started.push(gateway);
    return gateway;
  }

  it("passes on the task's own early answer (its 413) instead of a 502", async () => {
    const task = await fakeTask('early');
    started.push({ close: () => new Promise((r) => task.server.close(r)) });
    const gateway = await gatewayTo(task.url);
    for (const chunked of [false, true]) {
      for (let i = 0; i < 5; i++) {
        const answer = await post(`${gateway.url}/model/m/1/invocations`, 5 * MiB, { chunked });
        expect(answer.status, answer.text).toBe(413);
        expect(answer.json.message).toBe('Request body exceeds the limit of 1024 bytes.');
      }
    }
  });

  it('aborts the forwarded request of a chunked body that passes the limit', async () => {
    const task = await fakeTask('reads');
    started.push({
      close: () =>
        new Promise((r) => {
          task.server.close(r);
          task.server.closeAllConnections();
        }),
    });
    const gateway = await gatewayTo(task.url);
    expectGatewayRefusal(await post(`${gateway.url}/model/m/1/invocations`, 20 * MiB, { chunked: true }));
    await eventually(async () => expect(task.received).toHaveLength(1), 5_000);
    expect(task.received[0]).toBeLessThanOrEqual(MAX_BODY_BYTES);
  });
});
