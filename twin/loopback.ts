/** What the twin's local AWS stand-ins share: a loopback listener, and client settings that reach it. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The region and (dummy) credentials SDK clients use against the twin's local services. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/** Listens on 127.0.0.1 (`port` 0: a free one); resolves with the server's http:// address. */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
