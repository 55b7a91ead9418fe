/**
 * A trivial HTTP server for --client-check, run as `node dist/bench/trivial-server.js <port>
 * <bulk-bytes>` on 127.0.0.1. `GET /bulk` answers 200 with <bulk-bytes> bytes from one
 * preallocated buffer; a request with a body has it discarded and gets 201; anything else
 * gets 200 with a 2-byte body.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const bulkBytes = Number(process.argv[3] ?? 0);
if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(bulkBytes) || bulkBytes < 0) {
  process.stderr.write('usage: trivial-server.js <port> [bulk-bytes]\n');
  process.exit(2);
}
const bulk = Buffer.alloc(bulkBytes, 0x5a);
const tinyHeaders = { 'Content-Type': 'text/plain', 'Content-Length': '2' };
const bulkHeaders = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bulkBytes) };
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/bulk') {
    res.writeHead(200, bulkHeaders);
    res.end(bulk);
    return;
  }
  if (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(201, { 'Content-Length': '0' });
      res.end();
    });
    return;
  }
  res.writeHead(200, tinyHeaders);
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
