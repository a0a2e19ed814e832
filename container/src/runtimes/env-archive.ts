/**
 * The environment archive: Python environments built once and kept in S3
 * (`s3://bucket/prefix/<key>.tar.gz`, its sha256 in the object's `sha256` metadata), so that
 * every other task needing the same environment restores it in seconds instead of resolving and
 * installing it again. Who builds a missing one is decided by a claim item in the registry table
 * (`ENV#<key>`), so that two hosts do not both build it. See docs/environments.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { arch, hostname, platform } from 'node:os';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../../../core/table/dynamo';
import { environmentClaimKey, KIND } from '../../../core/table/layout';
import { packDirectory, unpackInto } from './env-tar';

/** Everything that decides what a built environment holds. */
export interface EnvironmentParts {
  /** The requirements installed (requirements.txt text). */
  readonly requirements: string;
  /** The Python asked for: a version (`3.11.2`) or the image's interpreter path. */
  readonly python: string;
  /** Operating system and CPU architecture (`linux-x64`): wheels are built for one. */
  readonly platform: string;
  /** The model host image: its interpreter, uv and system libraries (MLSERVE_RELEASE). */
  readonly imageRelease: string;
  /** Where the environment lives on the task's disk: a virtualenv holds absolute paths to itself. */
  readonly location: string;
}

/** The archive key of an environment: sha256 (hex) over every part, each length-prefixed. */
export function archiveKey(parts: EnvironmentParts): string {
  const hash = createHash('sha256');
  for (const value of [parts.requirements, parts.python, parts.platform, parts.imageRelease, parts.location]) {
    hash.update(`${Buffer.byteLength(value)}:${value}\n`);
  }
  return hash.digest('hex');
}

/** This machine's platform, as archiveKey takes it. */
export const currentPlatform = (): string => `${platform()}-${arch()}`;

/** Where environments are kept: `s3://bucket/prefix` (MLSERVE_ENV_ARCHIVE). */
export interface ArchiveLocation {
  readonly bucket: string;
  /** Without a trailing slash; may be empty. */
  readonly prefix: string;
}

export function parseArchiveLocation(uri: string): ArchiveLocation {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri.trim());
  if (!match) throw new Error(`MLSERVE_ENV_ARCHIVE must be s3://bucket/prefix, not '${uri}'`);
  return { bucket: match[1] as string, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

export type RestoreResult =
  | { readonly restored: true; readonly seconds: number; readonly bytes: number }
  | { readonly restored: false; readonly reason: 'absent' | 'corrupt'; readonly detail?: string };

export interface EnvironmentStoreOptions {
  readonly s3: S3Client;
  readonly location: ArchiveLocation;
  /** The registry table's document client and name: claims are items there. */
  readonly table: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The release of mlserve this host runs (MLSERVE_RELEASE): environments are keyed by it. */
  readonly release: string;
  /** The clock claims are judged by (ms); Date.now unless a test says otherwise. */
  readonly now?: () => number;
}

export class EnvironmentStore {
  private readonly now: () => number;
  /** The release of mlserve whose environments this store keeps (EnvironmentStoreOptions.release). */
  readonly mlserveRelease: string;

  constructor(private readonly options: EnvironmentStoreOptions) {
    this.now = options.now ?? Date.now;
    this.mlserveRelease = options.release;
  }

  /** The object key of an environment's archive. */
  objectKey(key: string): string {
    const { prefix } = this.options.location;
    return `${prefix ? `${prefix}/` : ''}${key}.tar.gz`;
  }

  /**
   * Downloads the environment's archive, checking its sha256 while unpacking it into a folder
   * beside `envDir`, then renames that folder to `envDir`. An archive whose bytes do not match
   * its checksum, or that tar cannot unpack whole, is deleted and reported `corrupt`.
   */
  async restore(key: string, envDir: string): Promise<RestoreResult> {
    const started = performance.now();
    const { s3, location } = this.options;
    const objectKey = this.objectKey(key);
    let out: GetObjectCommandOutput;
    try {
      out = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: objectKey }));
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        return { restored: false, reason: 'absent' };
      }
      throw error;
    }
    const body = out.Body as Readable;
    const expected = out.Metadata?.sha256;
    const partial = `${envDir}.restore-${randomUUID()}`;
    await mkdir(partial, { recursive: true });
    try {
      const unpacked = await unpackInto(body, partial);
      const problem = !expected
        ? 'the archive carries no sha256'
        : unpacked.sha256 !== expected
          ? `sha256 ${unpacked.sha256} of ${unpacked.bytes} bytes, expected ${expected}`
          : unpacked.tarError;
      if (problem) {
        await s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: objectKey }));
        await rm(partial, { recursive: true, force: true });
        return { restored: false, reason: 'corrupt', detail: problem };
      }
      await rm(envDir, { recursive: true, force: true });
      await rename(partial, envDir);
      return { restored: true, seconds: (performance.now() - started) / 1000, bytes: unpacked.bytes };
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Packs the built environment in `envDir` and uploads it with its sha256. One PutObject
   * writes bytes and checksum together: the object appears complete or not at all.
   */
  async save(key: string, envDir: string): Promise<{ bytes: number; sha256: string }> {
    const archive = `${envDir}.archive-${randomUUID()}.tar.gz`;
    try {
      const { sha256, bytes } = await packDirectory(envDir, archive);
      await this.options.s3.send(
        new PutObjectCommand({
          Bucket: this.options.location.bucket,
          Key: this.objectKey(key),
          Body: createReadStream(archive),
          ContentLength: bytes,
          ContentType: 'application/gzip',
          // S3 checks the bytes it receives against it; `sha256` is what restore checks.
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          Metadata: { sha256 },
        }),
      );
      return { bytes, sha256 };
    } finally {
      await rm(archive, { force: true });
    }
  }

  /**
   * Claims the building of `key` for `owner` until `ttlMs` from now: true when nobody holds
   * it, its holder's claim expired, or `owner` holds it already (which renews it).
   */
  claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return conditional(() =>
      this.options.table.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...environmentClaimKey(key), kind: KIND.environmentClaim, owner, expiresAt: now + ttlMs },
          ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      ),
    );
  }

  /** Gives the claim up, if `owner` still holds it. */
  async release(key: string, owner: string): Promise<void> {
    await conditional(() =>
      this.options.table.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: environmentClaimKey(key),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      ),
    );
  }
}

/** This process, as the owner of the claims it makes. */
export const PROCESS_OWNER = `${hostname()}:${process.pid}:${randomUUID()}`;

/** What withArchive needs besides the store. */
export interface ArchiveHook {
  readonly store: EnvironmentStore;
  /** Who claims builds: unique per host process. */
  readonly owner: string;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
  /** How long a claim lasts unless renewed; the builder renews it every third of it. */
  readonly claimTtlMs?: number;
  /** How often a host that lost the claim looks for the archive. */
  readonly pollMs?: number;
  /** How long it waits for the archive before building the environment itself. */
  readonly maxWaitMs?: number;
}

const DEFAULT_CLAIM_TTL_MS = 2 * 60_000;
const DEFAULT_POLL_MS = 5000;
const DEFAULT_MAX_WAIT_MS = 45 * 60_000;

/** How withArchive got the environment: restored from the archive, or built here; and how long it took. */
export interface ArchiveOutcome {
  readonly from: 'archive' | 'build';
  readonly seconds: number;
}

/**
 * Makes `envDir` hold the environment: restored from the archive when it is there; else built
 * by `build` under a claim and saved for the others; else (another host holds the claim)
 * restored once that host saved it, or built here when the claim expires unrenewed or the wait
 * runs out. A failed save is logged: the environment built here still serves.
 */
export async function withArchive(
  hook: ArchiveHook,
  spec: { readonly requirements: string; readonly python: string },
  envDir: string,
  build: () => Promise<void>,
): Promise<ArchiveOutcome> {
  const { store, owner, log } = hook;
  const key = archiveKey({
    ...spec,
    platform: currentPlatform(),
    imageRelease: store.mlserveRelease,
    location: envDir,
  });
  const ttlMs = hook.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
  const restore = async (): Promise<ArchiveOutcome | undefined> => {
    const result = await store.restore(key, envDir);
    if (result.restored) log('environment restored', { key, seconds: result.seconds, bytes: result.bytes });
    else if (result.reason === 'corrupt') log('environment archive corrupt, deleted', { key, detail: result.detail });
    return result.restored ? { from: 'archive', seconds: result.seconds } : undefined;
  };
  const buildAndSave = async (share: boolean): Promise<ArchiveOutcome> => {
    const started = performance.now();
    const renewal = share
      ? setInterval(() => void store.claim(key, owner, ttlMs).catch(() => {}), ttlMs / 3)
      : undefined;
    try {
      await build();
      const seconds = (performance.now() - started) / 1000;
      log('environment built', { key, seconds });
      if (share) {
        const saved = await store
          .save(key, envDir)
          .catch((error: Error) => log('environment not saved', { key, error: error.message }));
        if (saved) log('environment saved', { key, bytes: saved.bytes });
      }
      return { from: 'build', seconds };
    } finally {
      clearInterval(renewal);
      if (share) await store.release(key, owner).catch(() => {});
    }
  };

  let building = false;
  const buildHere = (share: boolean) => {
    building = true;
    return buildAndSave(share);
  };
  try {
    const restored = await restore();
    if (restored) return restored;
    const deadline = Date.now() + (hook.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    for (;;) {
      if (await store.claim(key, owner, ttlMs)) {
        // The last holder may have saved it between our look and our claim.
        const saved = await restore();
        if (saved) {
          await store.release(key, owner).catch(() => {});
          return saved;
        }
        return await buildHere(true);
      }
      if (Date.now() >= deadline) {
        log('environment archive wait ran out, building here', { key });
        return await buildHere(false);
      }
      await new Promise((resolve) => setTimeout(resolve, hook.pollMs ?? DEFAULT_POLL_MS));
      const waited = await restore();
      if (waited) return waited;
    }
  } catch (error) {
    if (building) throw error;
    // The archive is an optimisation: when S3 or the table cannot be reached, build here.
    log('environment archive unavailable, building here', { key, error: (error as Error).message });
    return await buildAndSave(false);
  }
}
