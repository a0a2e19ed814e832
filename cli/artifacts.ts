/**
 * Puts a local MLflow model directory into the artifact store the registry reads sources from:
 * a copy under a local folder (the local twin's `.mlserve/artifacts`) or an upload under an
 * `s3://bucket/prefix` URI, at `<root>/<model name>/<timestamp>`.
 */
import { createReadStream } from 'node:fs';
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CliError } from './context';

/** A model directory copied into the artifact store. */
export interface StoredModel {
  /** The copy's URI, to register as the version's source. */
  readonly source: string;
  /** How many files were copied. */
  readonly files: number;
  /** Removes the copy (when the registry refuses it). */
  remove(): Promise<void>;
}

export interface StoreOptions {
  /** The local MLflow model directory. */
  readonly dir: string;
  /** A folder path, a `file://` URI or an `s3://bucket/prefix` URI. */
  readonly root: string;
  readonly modelName: string;
  /** Defaults to now. */
  readonly time?: Date;
  /** An S3 client for `s3://` roots; defaults to one configured from the environment. */
  readonly s3?: () => S3Client;
  readonly onProgress?: (message: string) => void;
}

/** The files of a model directory (relative paths, `/`-separated), after checking it holds an MLmodel file. */
export async function modelFiles(dir: string): Promise<string[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError(`${dir} is not a directory`);
  const mlmodel = await stat(path.join(dir, 'MLmodel')).catch(() => undefined);
  if (!mlmodel?.isFile()) throw new CliError(`${dir} is not an MLflow model directory: it has no MLmodel file`);
  const files: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) continue;
    files.push(path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  }
  return files.sort();
}

/** `2025-01-31T12:00:00.123Z` as `20250131T120000123Z`: a folder name that sorts by time. */
export function timestampSegment(time: Date): string {
  return time.toISOString().replace(/[-:.]/g, '');
}

/** Copies or uploads a model directory to `<root>/<model name>/<timestamp>`. */
export async function storeModel(options: StoreOptions): Promise<StoredModel> {
  const files = await modelFiles(options.dir);
  if (options.modelName === '.' || options.modelName === '..') {
    throw new CliError(`a model named '${options.modelName}' cannot be a folder of the artifact store`);
  }
  const segment = timestampSegment(options.time ?? new Date());
  return options.root.startsWith('s3://')
    ? uploadToS3(options, files, segment)
    : copyToFolder(options, files.length, segment);
}

async function copyToFolder(options: StoreOptions, files: number, segment: string): Promise<StoredModel> {
  const root = path.resolve(options.root.startsWith('file:') ? fileURLToPath(options.root) : options.root);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new CliError(
      `artifact root ${root} does not exist: start the local twin (npm start) or give --artifact-root the registry's artifact folder`,
    );
  }
  const parent = path.join(root, options.modelName);
  const dest = path.join(parent, segment);
  await mkdir(parent, { recursive: true });
  try {
    // Not recursive: fails if another copy claimed the same timestamp.
    await mkdir(dest);
  } catch (error) {
    throw new CliError(`cannot create ${dest}: ${(error as Error).message}`);
  }
  const remove = () => rm(dest, { recursive: true, force: true });
  try {
    await cp(options.dir, dest, { recursive: true, dereference: true, force: false });
  } catch (error) {
    await remove();
    throw new CliError(`copying ${options.dir} to ${dest} failed: ${(error as Error).message}`);
  }
  options.onProgress?.(`copied ${files} files to ${dest}`);
  return { source: pathToFileURL(dest).href, files, remove };
}

async function uploadToS3(options: StoreOptions, files: string[], segment: string): Promise<StoredModel> {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.root);
  if (!m) throw new CliError(`--artifact-root ${options.root} is not an s3://bucket/prefix URI`);
  const bucket = m[1] as string;
  const prefix = [(m[2] as string).replace(/^\/+|\/+$/g, ''), options.modelName, segment].filter(Boolean).join('/');
  const client = () => options.s3?.() ?? new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
  const written: string[] = [];
  const remove = async () => {
    const s3 = client();
    try {
      for (let i = 0; i < written.length; i += 1000) {
        const batch = written.slice(i, i + 1000).map((Key) => ({ Key }));
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
      }
    } finally {
      s3.destroy();
    }
  };
  const s3 = client();
  try {
    for (const file of files) {
      const full = path.join(options.dir, ...file.split('/'));
      const key = `${prefix}/${file}`;
      const { size } = await stat(full);
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(full), ContentLength: size }),
      );
      written.push(key);
    }
  } catch (error) {
    await remove().catch(() => undefined);
    throw new CliError(`uploading ${options.dir} to s3://${bucket}/${prefix} failed: ${(error as Error).message}`);
  } finally {
    s3.destroy();
  }
  options.onProgress?.(`uploaded ${files.length} files to s3://${bucket}/${prefix}`);
  return { source: `s3://${bucket}/${prefix}`, files: files.length, remove };
}
