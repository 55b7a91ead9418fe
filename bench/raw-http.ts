/**
 * A minimal HTTP/1.1 client over one keep-alive TCP socket: one request in flight at a time,
 * request heads written as given, bodies sent as slices of caller-owned Buffers, responses
 * framed by Content-Length or chunked encoding. It does only what the benchmark needs, so the
 * client costs as little CPU as possible next to the server it measures.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** One response. `head` is the raw status line and header block (latin1). */
export interface RawResponse {
  status: number;
  head: string;
  /** Body bytes received (0 for HEAD, 204 and 304). */
  bodyLength: number;
  /** The body, when it was asked for or the status is an error (>= 400); else undefined. */
  body: Buffer | undefined;
}

/** Per-request switches. */
export interface RequestOptions {
  /** Request body, written after the head in slices of at most `sliceSize` bytes. */
  body?: Buffer;
  /** True for HEAD requests: the response has headers only. */
  headOnly?: boolean;
  /** Keep the response body even on success (small bodies only). */
  keepBody?: boolean;
}

/** A keep-alive connection that sends one request at a time. */
export interface RawConnection {
  /** Sends `head` (a complete request head ending in an empty line) and an optional body. */
  request(head: Buffer | string, options?: RequestOptions): Promise<RawResponse>;
  /** Closes the socket. */
  close(): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');
/** Bodies up to this size are written together with the head in one syscall. */
const SMALL_BODY = 64 * 1024;
/** Larger bodies go out in slices of this size, waiting for 'drain' when the socket is full. */
const SLICE_SIZE = 1024 * 1024;
/** A request that sees no socket activity for this long fails instead of hanging the run. */
const IDLE_TIMEOUT_MS = 120_000;

/** Parser states. */
const Phase = { Idle: 0, Head: 1, Body: 2, ChunkSize: 3, ChunkData: 4, ChunkEnd: 5, Trailer: 6 } as const;

interface Pending {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
  headOnly: boolean;
  keepBody: boolean;
}

/** Connection options. */
export interface ConnectionOptions {
  host?: string;
  /**
   * Size of the one receive buffer the socket reads into (reused for every read, so reading
   * allocates nothing). Larger values mean fewer reads for bulk downloads. Default 64 KiB.
   */
  readBufferSize?: number;
}

/** Opens a connection to 127.0.0.1:`port` (or `options.host`). */
export async function openConnection(port: number, options: ConnectionOptions = {}): Promise<RawConnection> {
  const host = options.host ?? '127.0.0.1';
  const address = `${host}:${port}`;
  let pending: Pending | undefined;
  let phase: number = Phase.Idle;
  let carry: Buffer | undefined;
  let remaining = 0;
  let status = 0;
  let head = '';
  let bodyLength = 0;
  let bodyParts: Buffer[] | undefined;
  let closed = false;
  let closeAfterResponse = false;

  const fail = (error: Error) => {
    const current = pending;
    pending = undefined;
    phase = Phase.Idle;
    if (current) current.reject(error);
  };

  const finish = () => {
    const current = pending as Pending;
    const body = bodyParts ? Buffer.concat(bodyParts) : undefined;
    pending = undefined;
    phase = Phase.Idle;
    bodyParts = undefined;
    if (closeAfterResponse) {
      closed = true;
      socket.destroy();
    }
    current.resolve({ status, head, bodyLength, body });
  };

  const startHead = (chunk: Buffer, offset: number): number => {
    const end = chunk.indexOf(HEAD_END, offset);
    if (end < 0) return -1;
    head = chunk.toString('latin1', offset, end);
    status = Number(head.slice(9, 12));
    if (!head.startsWith('HTTP/1.') || !(status >= 100 && status <= 599)) {
      throw new Error(`malformed response status line from ${address}: ${JSON.stringify(head.slice(0, 60))}`);
    }
    const lower = head.toLowerCase();
    closeAfterResponse = lower.includes('\r\nconnection: close');
    bodyLength = 0;
    const current = pending as Pending;
    bodyParts = current.keepBody || status >= 400 ? [] : undefined;
    if (status < 200) throw new Error(`unexpected interim response ${status} from ${address}`);
    if (current.headOnly || status === 204 || status === 304) {
      finish();
      return end + 4;
    }
    const te = headerIn(lower, 'transfer-encoding');
    if (te?.includes('chunked')) {
      phase = Phase.ChunkSize;
      return end + 4;
    }
    const length = headerIn(lower, 'content-length');
    if (length === undefined) {
      throw new Error(`response from ${address} has neither Content-Length nor chunked encoding`);
    }
    remaining = Number(length);
    if (!Number.isSafeInteger(remaining) || remaining < 0) {
      throw new Error(`bad Content-Length ${JSON.stringify(length)} from ${address}`);
    }
    phase = Phase.Body;
    if (remaining === 0) finish();
    return end + 4;
  };

  const takeBody = (chunk: Buffer, offset: number): number => {
    const take = Math.min(remaining, chunk.length - offset);
    if (bodyParts) bodyParts.push(Buffer.from(chunk.subarray(offset, offset + take)));
    remaining -= take;
    bodyLength += take;
    return offset + take;
  };

  const onData = (data: Buffer) => {
    let chunk = data;
    if (carry) {
      chunk = Buffer.concat([carry, data]);
      carry = undefined;
    }
    let offset = 0;
    try {
      while (offset < chunk.length) {
        if (!pending) throw new Error(`${address} sent ${chunk.length - offset} bytes nobody asked for`);
        if (phase === Phase.Head) {
          const next = startHead(chunk, offset);
          if (next < 0) break;
          offset = next;
        } else if (phase === Phase.Body) {
          offset = takeBody(chunk, offset);
          if (remaining === 0) finish();
        } else if (phase === Phase.ChunkSize || phase === Phase.Trailer) {
          const end = chunk.indexOf(LINE_END, offset);
          if (end < 0) break;
          const line = chunk.toString('latin1', offset, end);
          offset = end + 2;
          if (phase === Phase.Trailer) {
            if (line === '') finish();
            continue;
          }
          remaining = Number.parseInt(line, 16);
          if (!Number.isSafeInteger(remaining) || remaining < 0) {
            throw new Error(`bad chunk size ${JSON.stringify(line)} from ${address}`);
          }
          phase = remaining === 0 ? Phase.Trailer : Phase.ChunkData;
        } else if (phase === Phase.ChunkData) {
          offset = takeBody(chunk, offset);
          if (remaining === 0) phase = Phase.ChunkEnd;
        } else if (phase === Phase.ChunkEnd) {
          if (chunk.length - offset < 2) break;
          offset += 2;
          phase = Phase.ChunkSize;
        } else {
          throw new Error(`${address} sent data while no response was expected`);
        }
      }
      if (offset < chunk.length) carry = Buffer.from(chunk.subarray(offset));
    } catch (error) {
      fail(error as Error);
      closed = true;
      socket.destroy();
    }
  };

  const readBuffer = Buffer.allocUnsafe(options.readBufferSize ?? 64 * 1024);
  const socket: Socket = connect({
    port,
    host,
    noDelay: true,
    onread: {
      buffer: readBuffer,
      callback: (bytes) => {
        onData(readBuffer.subarray(0, bytes));
        return true;
      },
    },
  });
  socket.setTimeout(IDLE_TIMEOUT_MS, () => {
    fail(new Error(`no activity from ${address} for ${IDLE_TIMEOUT_MS / 1000} s`));
    socket.destroy();
  });
  socket.on('error', (error) => fail(new Error(`connection to ${address} failed: ${error.message}`)));
  socket.on('close', () => {
    closed = true;
    fail(new Error(`${address} closed the connection before the response was complete`));
  });

  const writeBody = async (body: Buffer) => {
    for (let offset = 0; offset < body.length && !closed; offset += SLICE_SIZE) {
      if (!socket.write(body.subarray(offset, offset + SLICE_SIZE))) await once(socket, 'drain');
    }
  };

  await once(socket, 'connect');
  return {
    request(requestHead, options = {}) {
      if (closed) return Promise.reject(new Error(`the connection to ${address} is closed`));
      if (pending) return Promise.reject(new Error('a request is already in flight on this connection'));
      return new Promise<RawResponse>((resolve, reject) => {
        pending = {
          resolve,
          reject,
          headOnly: options.headOnly === true,
          keepBody: options.keepBody === true,
        };
        phase = Phase.Head;
        const body = options.body;
        if (!body || body.length <= SMALL_BODY) {
          socket.cork();
          socket.write(requestHead);
          if (body && body.length > 0) socket.write(body);
          socket.uncork();
          return;
        }
        socket.write(requestHead);
        writeBody(body).catch((error: Error) =>
          fail(new Error(`sending the body to ${address} failed: ${error.message}`)),
        );
      });
    },
    close() {
      closed = true;
      socket.destroy();
    },
  };
}

/** The value of header `name` (lower case) in a lower-cased head, or undefined. */
function headerIn(lowerHead: string, name: string): string | undefined {
  const at = lowerHead.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const start = at + name.length + 3;
  const end = lowerHead.indexOf('\r\n', start);
  return lowerHead.slice(start, end < 0 ? undefined : end).trim();
}

/** The value of response header `name` (case-insensitive), with its original case, or undefined. */
export function responseHeader(response: RawResponse, name: string): string | undefined {
  const at = response.head.toLowerCase().indexOf(`\r\n${name.toLowerCase()}:`);
  if (at < 0) return undefined;
  const start = at + name.length + 3;
  const end = response.head.indexOf('\r\n', start);
  return response.head.slice(start, end < 0 ? undefined : end).trim();
}
