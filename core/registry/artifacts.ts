/**
 * Reading a model version's artifact (an MLflow model directory) from its source, and
 * the registration check that turns `MLmodel` into what the registry records.
 */
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import type { ArtifactInfo } from './model';
import type { ResolvedSource } from './sources';

/** Reads files of a model artifact by their path relative to the artifact's root. */
export interface ArtifactReader {
  /** The file's bytes, or undefined when it does not exist. */
  read(source: ResolvedSource, relativePath: string): Promise<Buffer | undefined>;
}

export class ArtifactError extends Error {}

function checkRelative(relativePath: string): void {
  if (path.isAbsolute(relativePath) || relativePath.split(/[\\/]/).some((s) => s === '..')) {
    throw new ArtifactError(`artifact path escapes the model directory: ${relativePath}`);
  }
}

/** Local files and S3 objects. */
export class SourceArtifactReader implements ArtifactReader {
  private s3?: S3Client;

  constructor(private readonly s3Factory: () => S3Client = () => new S3Client({})) {}

  async read(source: ResolvedSource, relativePath: string): Promise<Buffer | undefined> {
    checkRelative(relativePath);
    return source.kind === 'file' ? this.readFile(source.dir, relativePath) : this.readS3(source, relativePath);
  }

  private async readFile(dir: string, relativePath: string): Promise<Buffer | undefined> {
    let real: string;
    try {
      real = await realpath(path.join(dir, relativePath));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const rel = path.relative(dir, real);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new ArtifactError(`${relativePath} is a link that leads outside the model directory`);
    }
    return readFile(real);
  }

  private async readS3(source: Extract<ResolvedSource, { kind: 's3' }>, relativePath: string) {
    this.s3 ??= this.s3Factory();
    const key = source.prefix ? `${source.prefix}/${relativePath}` : relativePath;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: key }));
      return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

/**
 * A local directory holding the artifact: a `file://` source is used where it is; an S3
 * prefix is downloaded once into `cacheDir/<key>` (written to a temporary folder, then renamed).
 */
export async function localArtifactDir(
  source: ResolvedSource,
  cacheDir: string,
  cacheKey: string,
  s3Factory: () => S3Client = () => new S3Client({}),
): Promise<string> {
  if (source.kind === 'file') return source.dir;
  const dest = path.join(cacheDir, cacheKey);
  try {
    await readFile(path.join(dest, 'MLmodel'));
    return dest;
  } catch {
    // not cached yet
  }
  const partial = `${dest}.partial-${process.pid}-${Date.now()}`;
  const s3 = s3Factory();
  try {
    const prefix = `${source.prefix}/`;
    let token: string | undefined;
    let count = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: source.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const relative = (object.Key ?? '').slice(prefix.length);
        if (relative === '' || relative.endsWith('/')) continue;
        checkRelative(relative);
        const out = await s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: object.Key }));
        const bytes = await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
        await mkdir(path.dirname(path.join(partial, relative)), { recursive: true });
        await writeFile(path.join(partial, relative), bytes);
        count++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (count === 0) throw new ArtifactError(`no objects under s3://${source.bucket}/${prefix}`);
    await mkdir(path.dirname(dest), { recursive: true });
    await rm(dest, { recursive: true, force: true });
    await rename(partial, dest);
    return dest;
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  } finally {
    s3.destroy();
  }
}

/** Flavors mlserve can serve: Python models through pyfunc, ONNX natively. */
export const SERVABLE_FLAVORS = ['python_function', 'onnx'] as const;

const FEATURE_STORE_LOADER = 'databricks.feature_store.mlflow_model';
const FEATURE_SPEC = 'feature_spec.yaml';
const FEATURE_STORE_SPEC = 'data/feature_store/feature_spec.yaml';

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * Checks a version's artifact: `MLmodel` readable and valid, a servable flavor present.
 * Returns what the registry records about it, or throws ArtifactError with a reason a
 * person can act on.
 */
export async function inspectArtifact(reader: ArtifactReader, source: ResolvedSource): Promise<ArtifactInfo> {
  const raw = await reader.read(source, 'MLmodel');
  if (!raw) throw new ArtifactError('MLmodel not found at the root of the source');
  let doc: Record<string, unknown> | undefined;
  try {
    doc = asRecord(parseYaml(raw.toString('utf8')));
  } catch (error) {
    throw new ArtifactError(`MLmodel is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!doc) throw new ArtifactError('MLmodel is not a YAML mapping');
  const flavors = asRecord(doc.flavors);
  if (!flavors || Object.keys(flavors).length === 0) throw new ArtifactError('MLmodel declares no flavors');
  if (!SERVABLE_FLAVORS.some((f) => f in flavors)) {
    throw new ArtifactError(
      `no servable flavor: MLmodel has [${Object.keys(flavors).join(', ')}]; mlserve serves ${SERVABLE_FLAVORS.join(' and ')}`,
    );
  }
  const signature = asRecord(doc.signature);
  const example = asRecord(doc.saved_input_example_info);
  const pyfunc = asRecord(flavors.python_function);
  const featureSpecPath =
    pyfunc?.loader_module === FEATURE_STORE_LOADER
      ? FEATURE_STORE_SPEC
      : (await reader.read(source, FEATURE_SPEC))
        ? FEATURE_SPEC
        : undefined;
  if (featureSpecPath === FEATURE_STORE_SPEC && !(await reader.read(source, FEATURE_STORE_SPEC))) {
    throw new ArtifactError(`feature store model without ${FEATURE_STORE_SPEC}`);
  }
  return {
    flavors,
    mlflowVersion: optionalString(doc.mlflow_version),
    signature: signature
      ? {
          inputs: optionalString(signature.inputs),
          outputs: optionalString(signature.outputs),
          params: optionalString(signature.params),
        }
      : undefined,
    inputExamplePath: optionalString(example?.artifact_path),
    servingInputExamplePath: optionalString(example?.serving_input_path),
    featureSpecPath,
    modelUuid: optionalString(doc.model_uuid),
  };
}
