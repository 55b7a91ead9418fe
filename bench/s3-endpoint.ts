/**
 * The S3 endpoint of `npm run bench -- --storage s3`, in a process of its own: the tests'
 * fixture (test/helpers/s3-server.ts: s3rver behind the proxy that enforces conditional writes,
 * the code path AWS S3 makes Berth take). Its own process so that the proxy, which handles every
 * byte Berth stores, does not share the load generator's event loop and CPU accounting.
 *
 * Prints `ready <the BERTH_STORAGE_* variables as JSON>` once it serves. SIGTERM, SIGINT and the
 * end of stdin (the harness died without stopping it) stop it and remove its data.
 */
import { startS3Server } from '../test/helpers/s3-server.js';

/** Key prefix of Berth's data in the bucket. */
const ROOT_DIRECTORY = 'bench';

const server = await startS3Server({ conditional: true });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.dispose().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.stdout.write(`ready ${JSON.stringify(server.env(ROOT_DIRECTORY))}\n`);
