import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A local S3-API server (s3rver) on a loopback port, with one bucket. */
export interface LocalS3 {
  readonly bucket: string;
  client(): S3Client;
  /** Uploads every file of `dir` under `prefix/`. */
  upload(dir: string, prefix: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalS3(bucket = 'models-bucket'): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'mlserve-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const client = () =>
    new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  const uploader = client();
  return {
    bucket,
    client,
    upload: async (dir, prefix) => {
      for (const file of await readdir(dir, { recursive: true, withFileTypes: true })) {
        if (!file.isFile()) continue;
        const full = path.join(file.parentPath, file.name);
        const key = `${prefix}/${path.relative(dir, full).split(path.sep).join('/')}`;
        await uploader.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(full) }));
      }
    },
    close: async () => {
      uploader.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
