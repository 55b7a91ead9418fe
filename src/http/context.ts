/**
 * The per-request state Berth keeps on a Koa context, and a hook that runs once a response
 * is done (sent completely or cut off by the client).
 */
import type { RouterContext } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import type { Caller } from '../auth/authorizer.js';

/** State every request carries. */
export interface BerthState {
  /** From a well-formed `X-Request-Id` header, or generated. */
  requestId: string;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  /** Request body bytes the handler consumed. */
  bytesIn: number;
  /** Who is calling and what they may do; set by the route's access check. */
  caller?: Caller;
  /** Fails the stream a handler reads the body from (see request-body.ts), when it uses one. */
  abortBody?: (error: Error) => void;
}

/** The Koa context type used by every middleware and route. */
export type BerthContext = ParameterizedContext<BerthState> &
  Partial<Pick<RouterContext, 'captures' | 'routerName'>>;

/** How a response ended. */
export interface ResponseOutcome {
  status: number;
  seconds: number;
  /** Bytes of body sent (the declared length when complete, bytes written when cut off). */
  bytesOut: number;
  /** True when the client went away before the response was complete. */
  aborted: boolean;
  /** Route template, e.g. `/v2/<name>/blobs/<digest>`, or `unmatched`. */
  route: string;
}

const observers = Symbol('berth.responseObservers');

/**
 * Calls `done` once, when the response has finished or the connection closed. Every caller on
 * the same request shares one 'close' listener.
 */
export function onResponseDone(ctx: BerthContext, done: (outcome: ResponseOutcome) => void): void {
  const holder = ctx as BerthContext & { [observers]?: Array<(outcome: ResponseOutcome) => void> };
  const existing = holder[observers];
  if (existing) {
    existing.push(done);
    return;
  }
  const callbacks = [done];
  holder[observers] = callbacks;
  const socket = ctx.req.socket;
  const writtenAtStart = socket.bytesWritten;
  ctx.res.once('close', () => {
    const aborted = !ctx.res.writableFinished;
    const declared = Number(ctx.res.getHeader('content-length') ?? 0);
    const outcome: ResponseOutcome = {
      status: ctx.res.statusCode,
      seconds: (performance.now() - ctx.state.startedAt) / 1000,
      bytesOut: aborted
        ? Math.max(socket.bytesWritten - writtenAtStart, 0)
        : ctx.method === 'HEAD'
          ? 0
          : declared,
      aborted,
      route: ctx.routerName ?? 'unmatched',
    };
    for (const callback of callbacks) callback(outcome);
  });
}

/** Ends the response with `status` and no body (Koa would otherwise send the status text). */
export function respondEmpty(ctx: BerthContext, status: number): void {
  ctx.body = null;
  ctx.status = status;
}
