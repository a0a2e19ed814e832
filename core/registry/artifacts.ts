/**
 * Reading a model version's artifact (an MLflow model directory) from its source, and
 * the registration check that turns `MLmodel` into what the registry records.
 */
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import {
  DATABRICKS_LOADER_MODULE,
  DATABRICKS_RAW_MODEL_DIR,
  DATABRICKS_SPEC_FILE,
  FeatureSpecError,
  MLSERVE_SPEC_FILE,
  parseDatabricksSpec,
  parseMlserveSpec,
} from '../features/feature-spec';
import type { ArtifactInfo } from './model';
import type { ResolvedSource } from './sources';

/** Reads files of a model artifact by their path relative to the artifact's root. */
export interface ArtifactReader {
  /**
   * The file's bytes, or undefined when it does not exist. With `maxBytes`, a larger file is
   * not read: ArtifactTooLarge is thrown instead.
   */
  read(source: ResolvedSource, relativePath: string, options?: { maxBytes?: number }): Promise<Buffer | undefined>;
}

export class ArtifactError extends Error {}

/** A file larger than the reader was allowed to read. */
export class ArtifactTooLarge extends ArtifactError {
  constructor(
    readonly relativePath: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`${relativePath} is ${bytes} bytes, more than the ${maxBytes} allowed`);
  }
}

function checkRelative(relativePath: string): void {
  if (path.isAbsolute(relativePath) || relativePath.split(/[\\/]/).some((s) => s === '..')) {
    throw new ArtifactError(`artifact path escapes the model directory: ${relativePath}`);
  }
}

/** Local files and S3 objects. */
export class SourceArtifactReader implements ArtifactReader {
  private s3?: S3Client;

  constructor(private readonly s3Factory: () => S3Client = () => new S3Client({})) {}

  async read(
    source: ResolvedSource,
    relativePath: string,
    options: { maxBytes?: number } = {},
  ): Promise<Buffer | undefined> {
    checkRelative(relativePath);
    return source.kind === 'file'
      ? this.readFile(source.dir, relativePath, options.maxBytes)
      : this.readS3(source, relativePath, options.maxBytes);
  }

  private async readFile(dir: string, relativePath: string, maxBytes?: number): Promise<Buffer | undefined> {
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
    if (maxBytes !== undefined) {
      const { size } = await stat(real);
      if (size > maxBytes) throw new ArtifactTooLarge(relativePath, size, maxBytes);
    }
    return readFile(real);
  }

  private async readS3(source: Extract<ResolvedSource, { kind: 's3' }>, relativePath: string, maxBytes?: number) {
    this.s3 ??= this.s3Factory();
    const key = source.prefix ? `${source.prefix}/${relativePath}` : relativePath;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: key }));
      const body = out.Body as { transformToByteArray(): Promise<Uint8Array>; destroy?: () => void };
      if (maxBytes !== undefined && out.ContentLength !== undefined && out.ContentLength > maxBytes) {
        body.destroy?.(); // the object is not read
        throw new ArtifactTooLarge(relativePath, out.ContentLength, maxBytes);
      }
      const bytes = Buffer.from(await body.transformToByteArray());
      if (maxBytes !== undefined && bytes.length > maxBytes)
        throw new ArtifactTooLarge(relativePath, bytes.length, maxBytes);
      return bytes;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}

/**
 * A local directory holding the artifact: a `file://` source is used where it is; an S3
 * prefix is downloaded once into `cacheDir/<key>` (written to a temporary folder, each object's
 * size checked against the listing, then renamed).
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
        // A download cut short (or an object replaced mid-copy) must not be cached as the artifact.
        if (object.Size !== undefined && bytes.length !== object.Size)
          throw new ArtifactError(
            `s3://${source.bucket}/${object.Key} read ${bytes.length} bytes, listed ${object.Size}`,
          );
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

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

async function readMlmodel(reader: ArtifactReader, source: ResolvedSource, relativePath: string) {
  const raw = await reader.read(source, relativePath);
  if (!raw)
    throw new ArtifactError(
      `${relativePath} not found${relativePath === 'MLmodel' ? ' at the root of the source' : ''}`,
    );
  let doc: Record<string, unknown> | undefined;
  try {
    doc = asRecord(parseYaml(raw.toString('utf8')));
  } catch (error) {
    throw new ArtifactError(`${relativePath} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!doc) throw new ArtifactError(`${relativePath} is not a YAML mapping`);
  const flavors = asRecord(doc.flavors);
  if (!flavors || Object.keys(flavors).length === 0) throw new ArtifactError(`${relativePath} declares no flavors`);
  return { doc, flavors };
}

/** Reads and validates the version's feature spec, when it has one; a malformed one fails the check. */
async function readFeatureSpec(
  reader: ArtifactReader,
  source: ResolvedSource,
  relativePath: string,
  databricks: boolean,
) {
  const raw = await reader.read(source, relativePath);
  if (!raw) {
    if (databricks) throw new ArtifactError(`feature store model without ${relativePath}`);
    return undefined;
  }
  try {
    const text = raw.toString('utf8');
    return databricks ? parseDatabricksSpec(text) : parseMlserveSpec(text);
  } catch (error) {
    if (error instanceof FeatureSpecError) throw new ArtifactError(error.message);
    throw error;
  }
}

/**
 * Checks a version's artifact: `MLmodel` readable and valid, a servable flavor present, and a
 * feature spec (when there is one) valid. A model logged by Databricks' FeatureStoreClient is
 * checked through its raw model (`data/feature_store/raw_model/`), which is what gets served.
 * Returns what the registry records about it, or throws ArtifactError with a reason a person
 * can act on.
 */
export async function inspectArtifact(reader: ArtifactReader, source: ResolvedSource): Promise<ArtifactInfo> {
  const { doc, flavors: topFlavors } = await readMlmodel(reader, source, 'MLmodel');
  const databricks = asRecord(topFlavors.python_function)?.loader_module === DATABRICKS_LOADER_MODULE;
  const flavors = databricks
    ? (await readMlmodel(reader, source, `${DATABRICKS_RAW_MODEL_DIR}/MLmodel`)).flavors
    : topFlavors;
  if (!SERVABLE_FLAVORS.some((f) => f in flavors)) {
    throw new ArtifactError(
      `no servable flavor: ${databricks ? 'the raw model of this feature store model' : 'MLmodel'} has [${Object.keys(flavors).join(', ')}]; mlserve serves ${SERVABLE_FLAVORS.join(' and ')}`,
    );
  }
  const featureSpecPath = databricks ? DATABRICKS_SPEC_FILE : MLSERVE_SPEC_FILE;
  const featureSpec = await readFeatureSpec(reader, source, featureSpecPath, databricks);
  const signature = asRecord(doc.signature);
  const example = asRecord(doc.saved_input_example_info);
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
    inputExampleType: optionalString(example?.type),
    featureSpecPath: featureSpec ? featureSpecPath : undefined,
    rawModelPath: databricks ? DATABRICKS_RAW_MODEL_DIR : undefined,
    modelUuid: optionalString(doc.model_uuid),
  };
}
