/**
 * A trivial HTTP server for --client-check: answers every request with 200 and a 2-byte body.
 * Run as `node dist/bench/trivial-server.js <port>`; it listens on 127.0.0.1.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: trivial-server.js <port>\n');
  process.exit(2);
}
const headers = { 'Content-Type': 'text/plain', 'Content-Length': '2' };
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
