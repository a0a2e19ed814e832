/**
 * Packing a built environment into a tar.gz and unpacking one, with the system `tar` (GNU tar
 * in the image): it keeps symlinks as symlinks and file modes as they are, which a virtualenv
 * needs (`bin/python` is a link to the interpreter), and streams without holding the archive in
 * memory. The sha256 of the compressed bytes is computed on the way in both directions.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** How much of tar's error output a message carries. */
const STDERR_TAIL = 1024;

/** Packs the contents of `dir` into the file `archive`; returns its sha256 (hex) and size. */
export async function packDirectory(dir: string, archive: string): Promise<{ sha256: string; bytes: number }> {
  const tar = spawn('tar', ['-czf', '-', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = exitOf(tar);
  const hash = createHash('sha256');
  await pipeline(tar.stdout, hashing(hash), createWriteStream(archive));
  const { code, stderr } = await exited;
  if (code !== 0) throw new Error(`tar could not pack ${dir} (exit ${code}): ${stderr}`);
  return { sha256: hash.digest('hex'), bytes: (await stat(archive)).size };
}

export interface Unpacked {
  /** sha256 (hex) of the bytes read from `source`. */
  readonly sha256: string;
  readonly bytes: number;
  /** tar's complaint when the archive could not be unpacked whole (truncated, not gzip, …). */
  readonly tarError?: string;
}

/**
 * Unpacks the tar.gz read from `source` into `dir` (which exists). Resolves with the digest of
 * what was read and tar's verdict; rejects only when `source` itself fails (a network error),
 * which says nothing about the archive.
 */
export async function unpackInto(source: Readable, dir: string): Promise<Unpacked> {
  const tar = spawn('tar', ['-xzpf', '-', '-C', dir, '--no-same-owner'], { stdio: ['pipe', 'ignore', 'pipe'] });
  const exited = exitOf(tar);
  // Once tar stopped (exited, or closed its input), the pipeline tears the source down with an
  // error of its own: only an error the source raised before that is the source's.
  let tarStopped = false;
  tar.once('exit', () => {
    tarStopped = true;
  });
  tar.stdin.once('error', () => {
    tarStopped = true;
  });
  let sourceError: unknown;
  source.once('error', (error) => {
    if (!tarStopped) sourceError = error;
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = hashing(hash, (n) => {
    bytes += n;
  });
  try {
    await pipeline(source, counter, tar.stdin);
  } catch {
    // tar stopped reading (a corrupt archive: its exit says so) or the source failed (below).
  }
  const { code, stderr } = await exited;
  if (sourceError) throw sourceError;
  return { sha256: hash.digest('hex'), bytes, tarError: code === 0 ? undefined : `exit ${code}: ${stderr}` };
}

function hashing(hash: ReturnType<typeof createHash>, count?: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      count?.(chunk.length);
      done(null, chunk);
    },
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stderr: string }> {
  const errors: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stderr: Buffer.concat(errors).toString('utf8').trim().slice(-STDERR_TAIL) });
    });
  });
}
