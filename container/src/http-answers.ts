/**
 * Writing the host's answers: JSON held whole goes out as one write with its Content-Length;
 * a large answer given as text in parts is streamed without holding up other requests.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Answer } from './data-plane';
import { JsonText } from './scoring/json-text';

/** No extra headers; `Connection: close` on answers sent while draining. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
export const CLOSE: Readonly<Record<string, string>> = Object.freeze({ Connection: 'close' });

/** Writes a JSON text whole, with its Content-Length, in one write. */
function sendText(res: ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>>): void {
  const head: OutgoingHttpHeaders = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
  for (const name in headers) head[name] = headers[name];
  res.writeHead(status, head);
  res.end(text);
}

/** Sends an answer whose body is JSON (not text in parts). */
export function send(
  res: ServerResponse,
  answer: Answer,
  headers: Readonly<Record<string, string>> = NO_HEADERS,
): void {
  const body = answer.body instanceof JsonText ? answer.body.text() : JSON.stringify(answer.body);
  sendText(res, answer.status, body, headers);
}

/** Below this many bytes an answer in parts is sent whole, with a Content-Length. */
const STREAM_ABOVE_BYTES = 64 * 1024;

/**
 * Sends an answer; one given as text in parts is sent whole when small, else streamed: parts are
 * gathered into writes of at least 64 KiB, each written when the socket takes it, with the event
 * loop free between writes so a large answer does not hold up other requests. Returns undefined
 * when the answer was sent at once (the usual case), else a promise of its end.
 */
export function sendAnswer(
  res: ServerResponse,
  answer: Answer,
  headers: Readonly<Record<string, string>>,
): Promise<void> | undefined {
  const body = answer.body;
  if (!(body instanceof JsonText)) {
    send(res, answer, headers);
    return undefined;
  }
  const whole = body.whole();
  if (whole !== undefined) {
    sendText(res, answer.status, whole, headers);
    return undefined;
  }
  const parts = body.parts()[Symbol.iterator]();
  let pending = '';
  let next = parts.next();
  while (!next.done && pending.length < STREAM_ABOVE_BYTES) {
    pending += next.value;
    next = parts.next();
  }
  if (next.done) {
    sendText(res, answer.status, pending, headers);
    return undefined;
  }
  return streamAnswer(res, answer.status, headers, parts, pending, next);
}

async function streamAnswer(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  parts: Iterator<string>,
  first: string,
  after: IteratorResult<string>,
): Promise<void> {
  let pending = first;
  let next = after;
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  try {
    for (;;) {
      if (res.destroyed) return;
      if (!res.write(pending)) await writable(res);
      else await new Promise<void>((resolve) => setImmediate(resolve));
      if (next.done) break;
      pending = '';
      while (!next.done && pending.length < STREAM_ABOVE_BYTES) {
        pending += next.value;
        next = parts.next();
      }
    }
    res.end();
  } catch (error) {
    res.destroy(error as Error);
  }
}

/** Resolves when the response can take more, or is closed. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
