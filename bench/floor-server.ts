/**
 * The floor the model host is measured against: a bare Node HTTP server that reads a POST
 * body, parses it as JSON and answers a constant JSON body — what any Node server answering
 * JSON must do at least. Started by `npm run bench` as its own process; prints its URL.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ANSWER = '{"predictions":[0]}';
const LENGTH = String(Buffer.byteLength(ANSWER));

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': '2' });
      res.end('{}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': LENGTH });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`floor server listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
