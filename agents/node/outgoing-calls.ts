/**
 * Outgoing calls as `downstream`, with no code change in the application: node:http's and undici's (fetch's)
 * client diagnostics channels say when a call starts and ends; which server request it was made for comes from
 * an AsyncLocalStorage entered at each request's start.
 *
 * The storage costs every async operation of the host a little (Node copies the store into each new async
 * resource), so it is switched on only on a thread that has made an outgoing call: a server that calls nothing
 * pays nothing. That first call belongs to the request in flight only when there is exactly one; requests that
 * started before the switch carry no store, so their calls stay in the stage they were made from.
 *
 * A thread whose application marks its stages itself (src/vocabulary/stage-hook.ts) times its calls itself: the
 * tracker's `explicitStages` turns this off there, so no call is counted twice.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import type { RequestTracker } from './request-tracker.js';

/** On an outgoing request object: the tag of the server request it was made for. */
const kCall = Symbol('srvlens.call');
type CallTagged = { [kCall]?: number };

interface ClientMessage {
  request: object;
}

export class OutgoingCalls {
  /** The server request (its tracker handle) whose async context this is; null until the first outgoing call. */
  storage: AsyncLocalStorage<object> | null = null;
  private readonly onHttpClose: (this: object) => void;

  constructor(
    private readonly tracker: RequestTracker,
    private readonly fail: () => void,
  ) {
    // node:http: a ClientRequest emits 'close' once, when its response has ended or the call failed or was aborted.
    // A plain function (not an arrow) so the one listener serves every call: `this` is the request.
    this.onHttpClose = function (this: object) {
      try {
        tracker.callEnd((this as CallTagged)[kCall] ?? -1);
      } catch {
        fail();
      }
    };
  }

  start(): void {
    dc.subscribe('http.client.request.start', this.onHttpStart);
    dc.subscribe('undici:request:create', this.onUndiciStart);
    dc.subscribe('undici:request:trailers', this.onUndiciEnd);
    dc.subscribe('undici:request:error', this.onUndiciEnd);
  }

  stop(): void {
    dc.unsubscribe('http.client.request.start', this.onHttpStart);
    dc.unsubscribe('undici:request:create', this.onUndiciStart);
    dc.unsubscribe('undici:request:trailers', this.onUndiciEnd);
    dc.unsubscribe('undici:request:error', this.onUndiciEnd);
    this.storage?.disable();
    this.storage = null;
  }

  /** A server request starts on this thread: from here on its async context is its own. */
  enter(handle: object): void {
    // Called from the request-start channel, in the same synchronous run as the 'request' event: the store is set
    // on the async resource that runs the handler, and Node carries it into everything the handler starts.
    this.storage?.enterWith(handle);
  }

  /** Tags an outgoing request with the server request it belongs to and opens its downstream time; false if none. */
  private begin(request: object): boolean {
    if (this.tracker.explicitStages) return false;
    let tag: number;
    if (this.storage === null) {
      // The thread's first call: no request carries a store yet. It is the request in flight if there is just one.
      this.storage = new AsyncLocalStorage<object>();
      tag = this.tracker.soleTag();
    } else {
      // A call outside every request's async context (a timer set up at start, a background poll) is no one's.
      const owner = this.storage.getStore();
      tag = owner !== undefined ? this.tracker.tagOf(owner) : -1;
    }
    if (tag < 0) return false;
    (request as CallTagged)[kCall] = tag;
    this.tracker.callStart(tag);
    return true;
  }

  private readonly onHttpStart = (message: unknown): void => {
    try {
      const request = (message as ClientMessage).request as CallTagged & { once(event: string, f: () => void): void };
      if (this.begin(request)) request.once('close', this.onHttpClose);
    } catch {
      this.fail();
    }
  };

  private readonly onUndiciStart = (message: unknown): void => {
    try {
      this.begin((message as ClientMessage).request);
    } catch {
      this.fail();
    }
  };

  /** undici: 'trailers' when the response body has been read to its end, 'error' when the call failed or was aborted. */
  private readonly onUndiciEnd = (message: unknown): void => {
    try {
      const request = (message as ClientMessage).request as CallTagged;
      const tag = request[kCall];
      if (tag === undefined || tag < 0) return;
      request[kCall] = -1; // ends once, whichever of the two channels says so first
      this.tracker.callEnd(tag);
    } catch {
      this.fail();
    }
  };
}
