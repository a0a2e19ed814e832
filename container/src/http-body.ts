/** Reading a request body within the host's size limit. */
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from './errors';

/** A request closed before its body was complete (what reading a stream that ends early reports). */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * Reads a request body up to `limit` bytes (a BodyTooLargeError past it). A body that arrives in
 * one chunk, as a small one does, is used as it is. (The listeners are inline, unnamed
 * functions: this runs for every request.)
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise<Buffer>((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        req.pause();
        reject(new BodyTooLargeError(limit));
      } else if (first === undefined) {
        first = chunk;
      } else {
        more ??= [first];
        more.push(chunk);
      }
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(more ? Buffer.concat(more, size) : (first ?? Buffer.alloc(0)));
    });
    req.on('error', (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(prematureClose());
    });
  });
}
