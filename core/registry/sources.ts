/**
 * Where model versions may come from. The operator lists allowed roots
 * (`MLSERVE_SOURCE_ROOTS`: comma-separated `file:///…` and `s3://bucket/prefix` URIs);
 * a version's `source` must lie inside one of them. `..` segments are refused outright,
 * and `file://` sources are compared after resolving symlinks, so neither can escape a root.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { invalidParameter } from '../shared/errors';

export type SourceRoot = { readonly kind: 'file'; readonly dir: string } | S3Location;
export interface S3Location {
  readonly kind: 's3';
  readonly bucket: string;
  /** Key prefix without a trailing slash; '' for the whole bucket. */
  readonly prefix: string;
}
export type ResolvedSource = { readonly kind: 'file'; readonly dir: string } | S3Location;

function hasDotSegment(p: string): boolean {
  return p.split(/[\\/]+/).some((segment) => segment === '..' || segment === '.');
}

function parseS3(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match) return undefined;
  const key = (match[2] ?? '').replace(/\/+$/, '');
  return { kind: 's3', bucket: match[1] as string, prefix: key };
}

/** `..` or `.` segments in the URI as written (URL parsing would silently collapse them). */
function writtenWithDotSegment(uri: string): boolean {
  let decoded = uri;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    // keep the raw text; it is checked as written
  }
  return hasDotSegment(uri) || hasDotSegment(decoded);
}

/** A `file:` URI or a bare absolute path, as an absolute filesystem path. */
function localPath(source: string): string | undefined {
  if (writtenWithDotSegment(source)) return undefined;
  if (source.startsWith('file:')) {
    const url = new URL(source);
    if (url.host !== '' && url.host !== 'localhost') return undefined;
    return fileURLToPath(url);
  }
  return path.isAbsolute(source) ? source : undefined;
}

/** Parses `MLSERVE_SOURCE_ROOTS`; throws on an entry that is neither a `file://` nor an `s3://` URI. */
export function parseSourceRoots(value: string): SourceRoot[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry): SourceRoot => {
      if (entry.startsWith('s3://')) {
        const loc = parseS3(entry);
        if (!loc || hasDotSegment(loc.prefix)) throw new Error(`Invalid S3 source root: ${entry}`);
        return loc;
      }
      const dir = entry.startsWith('file:') ? localPath(entry) : undefined;
      if (!dir || hasDotSegment(dir)) throw new Error(`Invalid source root (want file:///… or s3://…): ${entry}`);
      return { kind: 'file', dir: path.resolve(dir) };
    });
}

/** The real path of `p`, resolving symlinks in the part of it that exists. */
async function realPathOfExistingPart(p: string): Promise<string> {
  const tail: string[] = [];
  let current = path.resolve(p);
  for (;;) {
    try {
      return path.join(await realpath(current), ...tail.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.resolve(p);
      tail.push(path.basename(current));
      current = parent;
    }
  }
}

function isInside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export class SourcePolicy {
  constructor(readonly roots: readonly SourceRoot[]) {}

  describeRoots(): string {
    if (this.roots.length === 0) return 'none are configured (set MLSERVE_SOURCE_ROOTS)';
    return this.roots
      .map((r) => (r.kind === 'file' ? pathToFileURL(r.dir).href : `s3://${r.bucket}/${r.prefix}`))
      .join(', ');
  }

  /** Checks that `source` lies inside an allowed root; throws INVALID_PARAMETER_VALUE otherwise. */
  async resolve(source: string): Promise<ResolvedSource> {
    const refuse = (why: string) =>
      invalidParameter(
        `Invalid model version source: '${source}'. ${why} Allowed source roots: ${this.describeRoots()}.`,
      );
    if (source.startsWith('s3://')) {
      const loc = parseS3(source);
      if (!loc || loc.prefix === '') throw refuse('It is not a valid s3://bucket/key URI.');
      if (writtenWithDotSegment(loc.prefix)) throw refuse("Paths may not contain '.' or '..' segments.");
      const allowed = this.roots.some(
        (r) =>
          r.kind === 's3' &&
          r.bucket === loc.bucket &&
          (r.prefix === '' || loc.prefix === r.prefix || loc.prefix.startsWith(`${r.prefix}/`)),
      );
      if (!allowed) throw refuse('It is outside every allowed source root.');
      return loc;
    }
    let local: string | undefined;
    try {
      local = localPath(source);
    } catch {
      local = undefined;
    }
    if (writtenWithDotSegment(source)) throw refuse("Paths may not contain '.' or '..' segments.");
    if (local === undefined) {
      throw refuse('Sources must be s3:// or file:// URIs (or absolute paths) inside an allowed root.');
    }
    const real = await realPathOfExistingPart(local);
    for (const root of this.roots) {
      if (root.kind !== 'file') continue;
      const rootReal = await realPathOfExistingPart(root.dir);
      if (isInside(rootReal, real) && real !== rootReal) return { kind: 'file', dir: real };
    }
    throw refuse('It is outside every allowed source root (symlinks are resolved before checking).');
  }
}
