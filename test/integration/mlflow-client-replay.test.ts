/**
 * Replays, against the local twin, every registry call MLflow 2.17.2's Python client made
 * in `registry-client-rest-calls.md`, and checks each answer against MLflow's own: same
 * status, same error code, and the same JSON (key order included) as far as the capture
 * recorded it, with timestamps compared as timestamps.
 *
 * Deliberate differences, each handled below and documented in docs/registry-api.md:
 * - sources: the capture's `s3://example-bucket/…` and `mlflow-artifacts:/…` sources are
 *   replayed as `file://` copies of the same model inside the twin's allowed root;
 * - a new version answers `PENDING_REGISTRATION` while its artifact is checked (MLflow's
 *   SQL store answers `READY` at once); the replay then polls `model-versions/get` until
 *   READY, as MLflow's client does;
 * - error messages keep MLflow's wording but leave out its SQL engine's text.
 * Calls to MLflow's tracking server (experiments, runs, artifacts) are not registry calls
 * and are not replayed.
 */
import { readFileSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, IRIS_MODEL } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

interface RecordedCall {
  readonly step: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly status: number;
  readonly request?: Record<string, unknown>;
  /** The recorded response text; truncated captures end in `...`. */
  readonly response?: string;
}

function parseCapture(markdown: string): RecordedCall[] {
  const calls: RecordedCall[] = [];
  let step = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heading = /^## (\S+)/.exec(line);
    if (heading) step = heading[1] as string;
    const call = /^- `(GET|POST|PATCH|DELETE|PUT) ([^`]+)` -> \*\*(\d+)\*\*/.exec(line);
    if (!call) continue;
    const url = new URL(call[2] as string, 'http://capture');
    let request: Record<string, unknown> | undefined;
    let response: string | undefined;
    for (let j = i + 1; j < lines.length && /^ {2}(req|resp): /.test(lines[j] as string); j++) {
      const m = /^ {2}(req|resp): `(.*)`\s*$/.exec(lines[j] as string);
      if (!m) continue;
      const text = m[2] as string;
      // Tracking calls (not replayed) may carry truncated bodies; registry bodies are whole.
      if (m[1] === 'req' && text.startsWith('{') && !text.endsWith('...')) request = JSON.parse(text);
      if (m[1] === 'resp') response = m[2];
    }
    calls.push({
      step,
      method: call[1] as string,
      path: url.pathname,
      query: url.searchParams,
      status: Number(call[3]),
      request,
      response,
    });
  }
  return calls;
}

/** JSON as Python's json.dumps writes it (", " and ": " separators), which is how the capture shows it. */
function pyDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyDumps(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

const TIMESTAMP = /\b1[0-9]{12}\b/g;
const normalize = (text: string) => text.replace(TIMESTAMP, '<ms>');

const capture = parseCapture(readFileSync(path.join(FIXTURES, 'registry-client-rest-calls.md'), 'utf8'));
const registryCalls = capture.filter((c) => /^\/api\/2\.0\/mlflow\/(registered-models|model-versions)\//.test(c.path));

let twin: TestTwin;
/** Capture source -> the twin source replayed in its place. */
const sourceMap = new Map<string, string>();

beforeAll(async () => {
  twin = await startTestTwin();
  const copyModel = async (relative: string) => {
    const dest = path.join(twin.artifactDir, relative);
    await mkdir(path.dirname(dest), { recursive: true });
    await cp(IRIS_MODEL, dest, { recursive: true });
    return pathToFileURL(dest).href;
  };
  sourceMap.set('s3://example-bucket/models/iris-sklearn', await copyModel('example-bucket/models/iris-sklearn'));
  for (const call of registryCalls) {
    const source = call.request?.source;
    if (typeof source === 'string' && source.startsWith('mlflow-artifacts:/') && !sourceMap.has(source)) {
      sourceMap.set(source, await copyModel(`mlruns/${source.slice('mlflow-artifacts:/'.length)}`));
    }
  }
});
afterAll(async () => {
  await twin?.close();
});

/** Our response with our sources written back as the capture's, so the texts compare. */
function asCaptured(text: string): string {
  let out = text;
  for (const [captured, ours] of sourceMap) out = out.split(ours).join(captured);
  return out;
}

describe("MLflow 2.17.2 client's registry calls, replayed", () => {
  it('covers every registry endpoint the client used', () => {
    const endpoints = new Set(registryCalls.map((c) => `${c.method} ${c.path}`));
    expect(endpoints.size).toBeGreaterThanOrEqual(15);
    expect(registryCalls.length).toBeGreaterThanOrEqual(25);
  });

  it('answers each call with MLflow status, error code and JSON', async () => {
    const timestamps: number[] = [];
    for (const recorded of registryCalls) {
      const label = `${recorded.step}: ${recorded.method} ${recorded.path}`;
      let params: unknown;
      if (recorded.method === 'GET') {
        params = Object.fromEntries(recorded.query);
      } else {
        const body = { ...recorded.request };
        if (typeof body.source === 'string') body.source = sourceMap.get(body.source) ?? body.source;
        params = body;
      }
      const res = await twin.call(recorded.method, recorded.path, params);
      expect(res.status, label).toBe(recorded.status);
      expect(res.headers.get('content-type'), label).toContain('application/json');
      const body = res.json;
      timestamps.push(...(res.text.match(TIMESTAMP) ?? []).map(Number));
      if (recorded.response === undefined) continue;
      const truncated = recorded.response.endsWith('...');
      // A capture cut inside a number keeps only its first digits: compare up to the number.
      let expected = normalize(truncated ? recorded.response.slice(0, -3).replace(/[0-9]+$/, '') : recorded.response);

      if (recorded.status !== 200) {
        const theirs = JSON.parse(recorded.response.endsWith('...') ? `${expected}"}` : expected) as {
          error_code: string;
          message: string;
        };
        expect(body.error_code, label).toBe(theirs.error_code);
        const ours = String(body.message);
        // Same leading sentence; MLflow goes on with its SQL engine's text or its own hint.
        const firstSentence = (m: string) => m.split(/(?<=\.) /)[0] as string;
        expect(firstSentence(ours), label).toBe(firstSentence(theirs.message.replace(TIMESTAMP, '<ms>')));
        continue;
      }

      if (recorded.path.endsWith('model-versions/create')) {
        expect((body.model_version as Record<string, unknown>).status, label).toBe('PENDING_REGISTRATION');
        expected = expected.replace('"status": "READY"', '"status": "PENDING_REGISTRATION"');
        const mv = body.model_version as { name: string; version: string };
        const ready = await waitReady(mv.name, mv.version);
        expect(ready, `${label} registration check`).toBe('READY');
      }
      const actual = normalize(asCaptured(pyDumps(body)));
      if (truncated)
        expect(actual.startsWith(expected), `${label}\nours:     ${actual}\nexpected: ${expected}`).toBe(true);
      else expect(actual, label).toBe(expected);
    }
    expect(timestamps.every((t) => Math.abs(t - Date.now()) < 10 * 60_000)).toBe(true);
  });
});

/** What MLflow's client does after creating a version: poll until it leaves PENDING_REGISTRATION. */
async function waitReady(name: string, version: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await twin.call('GET', '/api/2.0/mlflow/model-versions/get', { name, version });
    const status = (res.json.model_version as { status: string }).status;
    if (status !== 'PENDING_REGISTRATION' || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 20));
  }
}
