/**
 * The agent's hot path: per-request stage timing without per-request objects.
 *
 * Each in-flight request borrows a slot in preallocated typed arrays (its send time, start, current stage, the
 * stage's start, and the time spent so far in each stage). The slot number rides on the handle (the response, or
 * the connection object of a server that parses HTTP itself) under a symbol. At the end the slot's times are
 * added into this thread's shared ring, in the bucket of the interval the request finished in: the generator
 * counts a request in the interval it received the response, so both sides sum over the same requests.
 */
import { STAGE, STAGE_COUNT, DEFAULT_HANDLER_STAGE, SEND_TIME_HEADER, monoMs } from '../../src/model/index.js';
import {
  B_JOINED,
  B_REQUESTS,
  B_SPLIT_BLOCKED,
  B_SPLIT_ONCPU,
  B_SPLIT_REQUESTS,
  B_SPLIT_RUNQ,
  B_STAGE_ENTRIES,
  B_STAGE_MS,
  H_DROPPED,
  type ThreadRing,
} from './thread-ring.js';
import type { ThreadSchedstat } from './thread-schedstat.js';

export const kSlot = Symbol('srvlens.slot');
export const kAccept = Symbol('srvlens.accept');

/** A send time older than this, or in the future, is not from a srvlens client on this host: ignore it. */
const MAX_PLAUSIBLE_QUEUE_MS = 120_000;

type Tagged = { [kSlot]?: number };
type Accepted = { [kAccept]?: number };

export class RequestTracker {
  private readonly sendMs: Float64Array;
  private readonly startMs: Float64Array;
  private readonly stageStartMs: Float64Array;
  private readonly stage: Int8Array;
  private readonly stageMs: Float64Array; // capacity * STAGE_COUNT
  private readonly stageEntries: Uint16Array; // capacity * STAGE_COUNT
  private readonly freeList: Int32Array;
  private freeTop: number;
  /**
   * Set on threads that serve one request at a time (the blocking models): each request's wall time is split into
   * on-CPU, run-queue wait and blocked by the thread's schedstat at its start and end.
   */
  private sched: ThreadSchedstat | null = null;
  private schedStartCpu = 0;
  private schedStartRunq = 0;

  constructor(
    private readonly ring: ThreadRing,
    private readonly capacity = 8192,
  ) {
    this.sendMs = new Float64Array(capacity);
    this.startMs = new Float64Array(capacity);
    this.stageStartMs = new Float64Array(capacity);
    this.stage = new Int8Array(capacity);
    this.stageMs = new Float64Array(capacity * STAGE_COUNT);
    this.stageEntries = new Uint16Array(capacity * STAGE_COUNT);
    this.freeList = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeList[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  splitBySchedstat(sched: ThreadSchedstat | null): void {
    this.sched = sched;
  }

  onAccept(socket: object): void {
    (socket as Accepted)[kAccept] = monoMs();
  }

  /** node:http's request start: `rawHeaders` is scanned in place (reading `headers` would build an object per request). */
  onRequestStart(response: object, rawHeaders: string[], socket: object): void {
    this.begin(response, findSendTimeUs(rawHeaders), (socket as Accepted)[kAccept] ?? 0);
  }

  /**
   * A request's handler starts. sendUs: the client's send time (µs, shared clock) or <= 0 when unknown;
   * acceptMs: when its connection was accepted (ms, shared clock) or 0.
   */
  begin(handle: object, sendUs: number, acceptMs: number): void {
    const now = monoMs();
    if (this.freeTop === 0) {
      this.ring.f64[H_DROPPED]++;
      (handle as Tagged)[kSlot] = -1;
      return;
    }
    const slot = this.freeList[--this.freeTop];
    (handle as Tagged)[kSlot] = slot;
    const base = slot * STAGE_COUNT;
    for (let i = 0; i < STAGE_COUNT; i++) {
      this.stageMs[base + i] = 0;
      this.stageEntries[base + i] = 0;
    }
    this.startMs[slot] = now;
    this.sendMs[slot] = -1;
    if (sendUs > 0) {
      const sent = sendUs / 1000;
      if (sent <= now && now - sent < MAX_PLAUSIBLE_QUEUE_MS) {
        // Waiting in the kernel's accept queue counts from the client's send only if the server accepted later.
        const queueStart = acceptMs > sent ? acceptMs : sent;
        this.sendMs[slot] = sent;
        this.stageMs[base + STAGE.accept_queue] = queueStart - sent;
        this.stageEntries[base + STAGE.accept_queue] = 1;
        this.stageMs[base + STAGE.server_queue] = now - queueStart;
        this.stageEntries[base + STAGE.server_queue] = 1;
      }
    }
    this.stage[slot] = DEFAULT_HANDLER_STAGE;
    this.stageEntries[base + DEFAULT_HANDLER_STAGE]++;
    this.stageStartMs[slot] = now;
    if (this.sched !== null) {
      this.sched.read();
      this.schedStartCpu = this.sched.onCpuMs;
      this.schedStartRunq = this.sched.runqueueMs;
    }
  }

  /** The explicit stage API: from now on the request is in `stage`. Unknown handles and stages are ignored. */
  markStage(handle: object, stage: number): void {
    const slot = (handle as Tagged)[kSlot];
    if (slot === undefined || slot < 0 || stage < 0 || stage >= STAGE_COUNT) return;
    const now = monoMs();
    const base = slot * STAGE_COUNT;
    this.stageMs[base + this.stage[slot]] += now - this.stageStartMs[slot];
    this.stage[slot] = stage;
    this.stageEntries[base + stage]++;
    this.stageStartMs[slot] = now;
  }

  /** The response's last byte was handed to the kernel: fold the request into its interval's bucket. */
  end(handle: object): void {
    const now = monoMs();
    const f = this.ring.f64;
    const b = this.ring.bucketFor(now);
    f[b + B_REQUESTS]++;
    const slot = (handle as Tagged)[kSlot];
    if (slot === undefined || slot < 0) return;
    (handle as Tagged)[kSlot] = -1;
    const base = slot * STAGE_COUNT;
    this.stageMs[base + this.stage[slot]] += now - this.stageStartMs[slot];
    const wall = now - this.startMs[slot];
    this.ring.durationAt(b).record(wall / 1000);
    if (this.sched !== null) {
      this.sched.read();
      const cpu = this.sched.onCpuMs - this.schedStartCpu;
      const runq = this.sched.runqueueMs - this.schedStartRunq;
      f[b + B_SPLIT_REQUESTS]++;
      f[b + B_SPLIT_ONCPU] += cpu;
      f[b + B_SPLIT_RUNQ] += runq;
      f[b + B_SPLIT_BLOCKED] += Math.max(0, wall - cpu - runq);
    }
    const joined = this.sendMs[slot] >= 0;
    if (joined) f[b + B_JOINED]++;
    for (let i = 0; i < STAGE_COUNT; i++) {
      if (i <= STAGE.server_queue && !joined) continue;
      f[b + B_STAGE_MS + i] += this.stageMs[base + i];
      f[b + B_STAGE_ENTRIES + i] += this.stageEntries[base + i];
    }
    this.freeList[this.freeTop++] = slot;
  }

  /** A response that never finished (the connection closed first): give the slot back, count nothing. */
  abandon(handle: object): void {
    const slot = (handle as Tagged)[kSlot];
    if (slot === undefined || slot < 0) return;
    (handle as Tagged)[kSlot] = -1;
    this.freeList[this.freeTop++] = slot;
  }

  get inFlight(): number {
    return this.capacity - this.freeTop;
  }
}

/** Finds the generator's send-time header in Node's flat [name, value, name, value] array; -1 when absent. */
function findSendTimeUs(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === SEND_TIME_HEADER.length && (name === SEND_TIME_HEADER || name.toLowerCase() === SEND_TIME_HEADER)) {
      const v = +raw[i + 1];
      return v > 0 ? v : -1;
    }
  }
  return -1;
}
