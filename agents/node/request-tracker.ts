/**
 * The agent's hot path: per-request stage timing without per-request objects.
 *
 * Each in-flight request borrows a slot in preallocated typed arrays (its send time, start, current stage, the
 * stage's start, and the time spent so far in each stage). The slot number rides on the handle (the response, or
 * the connection object of a server that parses HTTP itself) under a symbol. At the end the slot's times are
 * added into this thread's shared ring, in the bucket of the interval the request finished in: the generator
 * counts a request in the interval it received the response, so both sides sum over the same requests.
 */
import { STAGE, STAGE_COUNT, DEFAULT_HANDLER_STAGE, SEND_TIME_HEADER, TRACEPARENT_HEADER } from '../../src/vocabulary/parts.js';
import { monoMs } from '../../src/vocabulary/clock.js';
import {
  B_JOINED,
  B_REQUESTS,
  B_SPLIT_BLOCKED,
  B_SPLIT_ONCPU,
  B_SPLIT_REQUESTS,
  B_SPLIT_RUNQ,
  B_SPLIT_WALL,
  B_EXEMPLARS,
  B_IN_FLIGHT_MS,
  B_STAGE_ENTRIES,
  B_STAGE_MS,
  EX_FILLED,
  EX_PARENT,
  EX_SEND,
  EX_SIZE,
  EX_SLOTS,
  EX_SLOWEST,
  EX_STAGES,
  EX_START,
  EX_TRACE,
  EX_WALL,
  H_DROPPED,
  type ThreadRing,
} from './thread-ring.js';
import type { ThreadSchedstat } from './thread-schedstat.js';

export const kSlot = Symbol('srvlens.slot');
export const kAccept = Symbol('srvlens.accept');

/** A send time older than this, or in the future, is not from a srvlens client on this host: ignore it. */
const MAX_PLAUSIBLE_QUEUE_MS = 120_000;
/**
 * A request in flight this long was abandoned (its client went away and the response never finished): its slot is
 * taken back by `sweep` and counted as dropped. Cheaper than a 'close' listener on every response (~90 ns each,
 * measured), which is what this replaces.
 */
const ABANDONED_MS = 120_000;

/**
 * On a thread that serves one request at a time, a request is split by schedstat when the last split began at
 * least this long ago: at most 50 a second per thread. Two reads of /proc/thread-self/schedstat cost ~3-5 µs; at
 * 5 ms (200 a second per thread) they cost the thread pool's hello workload ~4 % of a 0.35-core budget (ablation in
 * bench/agent-overhead, paired: CPU per request x1.234 with, x1.196 without; 2026-12-07). At the rates where a
 * request takes longer than this gap every one is split, and above them the split is a mean over a sample taken
 * evenly in time (consumers divide by the requests split).
 */
const SPLIT_GAP_MS = 20;

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
   * A slot's generation, bumped each time it is taken back by `sweep`: a handle carries slot + generation x capacity,
   * so a late end() of an abandoned request cannot release the slot a new request now holds.
   */
  private readonly generation: Float64Array;
  private readonly inUse: Uint8Array;
  /**
   * Set on threads that serve one request at a time (the blocking models): each request's wall time is split into
   * on-CPU, run-queue wait and blocked by the thread's schedstat at its start and end.
   */
  private sched: ThreadSchedstat | null = null;
  private schedStartCpu = 0;
  private schedStartRunq = 0;
  /** The slot of the request being split now (-1: none), and when the last split began. */
  private splitSlot = -1;
  private lastSplitMs = -Infinity;
  /** The last begin or end (ms): requests in flight are integrated over time from there (accrueInFlight). */
  private lastChangeMs = 0;
  /** Exemplars on: each slot keeps its request's traceparent (a reference to the header string, no copy). */
  private exemplars = false;
  private readonly traceparent: (string | undefined)[];
  /** Set by the header scan of node:http requests. */
  private scannedTrace: string | undefined = undefined;
  /**
   * Outgoing calls seen by the agent (node:http and undici clients), per slot: how many are outstanding, and the
   * stage to go back to when the last one ends. While one is outstanding the request is in `downstream`.
   */
  private readonly calls: Uint16Array;
  private readonly resumeStage: Int8Array;
  /** The tag of the request begun last: the owner of an outgoing call when it is the only one in flight. */
  private lastTag = -1;
  /**
   * The application marks its stages itself (the explicit API): outgoing calls are then its business, and are not
   * timed a second time as downstream.
   */
  explicitStages = false;

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
    this.generation = new Float64Array(capacity);
    this.inUse = new Uint8Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeList[i] = capacity - 1 - i;
    this.freeTop = capacity;
    this.traceparent = new Array<string | undefined>(capacity).fill(undefined);
    this.calls = new Uint16Array(capacity);
    this.resumeStage = new Int8Array(capacity);
  }

  keepExemplars(on: boolean): void {
    this.exemplars = on;
  }

  /**
   * One pass over Node's flat [name, value, ...] array (reading `headers` would build an object per request):
   * returns the generator's send time (µs, -1 when absent) and, with exemplars on, leaves the traceparent in
   * `scannedTrace`.
   */
  private scanHeaders(raw: string[]): number {
    let sendUs = -1;
    this.scannedTrace = undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.length === SEND_TIME_HEADER.length && (name === SEND_TIME_HEADER || name.toLowerCase() === SEND_TIME_HEADER)) {
        const v = +raw[i + 1];
        sendUs = v > 0 ? v : -1;
      } else if (this.exemplars && name.length === 11 && name.toLowerCase() === TRACEPARENT_HEADER) {
        this.scannedTrace = raw[i + 1];
      }
    }
    return sendUs;
  }

  splitBySchedstat(sched: ThreadSchedstat | null): void {
    this.sched = sched;
  }

  onAccept(socket: object): void {
    (socket as Accepted)[kAccept] = monoMs();
  }

  /** node:http's request start: `rawHeaders` is scanned in place (reading `headers` would build an object per request). */
  onRequestStart(response: object, rawHeaders: string[], socket: object): void {
    const sendUs = this.scanHeaders(rawHeaders);
    this.begin(response, sendUs, (socket as Accepted)[kAccept] ?? 0, this.scannedTrace);
  }

  /**
   * A request's handler starts. sendUs: the client's send time (µs, shared clock) or <= 0 when unknown;
   * acceptMs: when its connection was accepted (ms, shared clock) or 0; traceparent: the W3C header, if any.
   */
  begin(handle: object, sendUs: number, acceptMs: number, traceparent?: string): void {
    const now = monoMs();
    if (this.freeTop === 0) {
      this.ring.f64[H_DROPPED]++;
      (handle as Tagged)[kSlot] = -1;
      return;
    }
    this.accrueInFlight(now, this.ring.bucketFor(now));
    const slot = this.freeList[--this.freeTop];
    this.inUse[slot] = 1;
    const tag = slot + this.generation[slot] * this.capacity;
    (handle as Tagged)[kSlot] = tag;
    this.lastTag = tag;
    this.calls[slot] = 0;
    const base = slot * STAGE_COUNT;
    for (let i = 0; i < STAGE_COUNT; i++) {
      this.stageMs[base + i] = 0;
      this.stageEntries[base + i] = 0;
    }
    this.startMs[slot] = now;
    this.sendMs[slot] = -1;
    if (this.exemplars) this.traceparent[slot] = traceparent;
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
    if (this.sched !== null && now - this.lastSplitMs >= SPLIT_GAP_MS) {
      this.lastSplitMs = now;
      this.splitSlot = slot;
      this.sched.read();
      this.schedStartCpu = this.sched.onCpuMs;
      this.schedStartRunq = this.sched.runqueueMs;
    } else if (slot === this.splitSlot) {
      this.splitSlot = -1; // the slot of a split request that never ended (taken back by sweep): not this one's
    }
  }

  /** The explicit stage API: from now on the request is in `stage`. Unknown handles and stages are ignored. */
  markStage(handle: object, stage: number): void {
    const slot = this.slotOf(handle);
    if (slot < 0 || stage < 0 || stage >= STAGE_COUNT) return;
    this.enterStage(slot, stage, monoMs());
  }

  private enterStage(slot: number, stage: number, now: number): void {
    const base = slot * STAGE_COUNT;
    this.stageMs[base + this.stage[slot]] += now - this.stageStartMs[slot];
    this.stage[slot] = stage;
    this.stageEntries[base + stage]++;
    this.stageStartMs[slot] = now;
  }

  /** The tag a request's handle carries (for an outgoing call to point back at it), or -1. */
  tagOf(handle: object): number {
    const tag = (handle as Tagged)[kSlot];
    return tag !== undefined && this.slotOfTag(tag) >= 0 ? tag : -1;
  }

  /** The request in flight when it is the only one on this thread (one request at a time), or -1. */
  soleTag(): number {
    return this.capacity - this.freeTop === 1 && this.slotOfTag(this.lastTag) >= 0 ? this.lastTag : -1;
  }

  /**
   * An outgoing call made for the request `tag` starts: the request is in `downstream` until its last outstanding
   * call ends (overlapping calls count once, as the wall time the request waited on any of them).
   */
  callStart(tag: number): void {
    const slot = this.slotOfTag(tag);
    if (slot < 0 || this.calls[slot]++ > 0) return;
    this.resumeStage[slot] = this.stage[slot];
    if (this.stage[slot] !== STAGE.downstream) this.enterStage(slot, STAGE.downstream, monoMs());
  }

  /** An outgoing call of `tag` ended (response complete, failed or aborted). A finished request ignores it. */
  callEnd(tag: number): void {
    const slot = this.slotOfTag(tag);
    if (slot < 0 || this.calls[slot] === 0 || --this.calls[slot] > 0) return;
    // Unless the application moved the request on itself meanwhile, it is back where it was before the call.
    const resume = this.resumeStage[slot];
    if (this.stage[slot] === STAGE.downstream && resume !== STAGE.downstream) this.enterStage(slot, resume, monoMs());
  }

  /** The response's last byte was handed to the kernel: fold the request into its interval's bucket. */
  end(handle: object): void {
    const now = monoMs();
    const f = this.ring.f64;
    const b = this.ring.bucketFor(now);
    f[b + B_REQUESTS]++;
    const slot = this.slotOf(handle);
    if (slot < 0) return;
    this.accrueInFlight(now, b);
    (handle as Tagged)[kSlot] = -1;
    const base = slot * STAGE_COUNT;
    this.stageMs[base + this.stage[slot]] += now - this.stageStartMs[slot];
    const wall = now - this.startMs[slot];
    this.ring.durationAt(b).record(wall / 1000);
    if (this.sched !== null && slot === this.splitSlot) {
      this.splitSlot = -1;
      this.sched.read();
      const cpu = this.sched.onCpuMs - this.schedStartCpu;
      const runq = this.sched.runqueueMs - this.schedStartRunq;
      f[b + B_SPLIT_REQUESTS]++;
      f[b + B_SPLIT_ONCPU] += cpu;
      f[b + B_SPLIT_RUNQ] += runq;
      f[b + B_SPLIT_BLOCKED] += Math.max(0, wall - cpu - runq);
      f[b + B_SPLIT_WALL] += wall;
    }
    const joined = this.sendMs[slot] >= 0;
    if (joined) f[b + B_JOINED]++;
    if (this.exemplars) this.offerExemplar(b, slot, wall);
    for (let i = 0; i < STAGE_COUNT; i++) {
      if (i <= STAGE.server_queue && !joined) continue;
      f[b + B_STAGE_MS + i] += this.stageMs[base + i];
      f[b + B_STAGE_ENTRIES + i] += this.stageEntries[base + i];
    }
    this.release(slot);
  }

  /**
   * Keeps the request whole if it is among the interval's slowest, or drawn by the reservoir for the sample.
   * Rarely writes: after the first few requests of an interval a new one is rarely a record or drawn.
   */
  private offerExemplar(b: number, slot: number, wall: number): void {
    const f = this.ring.f64;
    const ex = b + B_EXEMPLARS;
    let target = -1;
    // Slowest: replace the faster of the slowest slots when this one beats it.
    let min = ex;
    for (let k = 1; k < EX_SLOWEST; k++) {
      const e = ex + k * EX_SIZE;
      if (f[e + EX_FILLED] !== 1 || f[e + EX_WALL] < f[min + EX_WALL]) min = e;
    }
    if (f[min + EX_FILLED] !== 1 || wall > f[min + EX_WALL]) target = min;
    else {
      // Sample: reservoir over the interval's requests, so every request is equally likely to be kept.
      const n = f[b + B_REQUESTS];
      const k = n <= EX_SLOTS - EX_SLOWEST ? n - 1 : Math.floor(Math.random() * n);
      if (k < EX_SLOTS - EX_SLOWEST) target = ex + (EX_SLOWEST + k) * EX_SIZE;
    }
    if (target < 0) return;
    const base = slot * STAGE_COUNT;
    f[target + EX_FILLED] = 1;
    f[target + EX_WALL] = wall;
    f[target + EX_START] = this.startMs[slot];
    f[target + EX_SEND] = this.sendMs[slot];
    for (let i = 0; i < STAGE_COUNT; i++) f[target + EX_STAGES + i] = this.stageMs[base + i];
    writeTraceparent(f, target, this.traceparent[slot]);
  }

  /** The slot a handle holds, or -1 (none, finished, or taken back from an abandoned request). */
  private slotOf(handle: object): number {
    const tag = (handle as Tagged)[kSlot];
    return tag === undefined ? -1 : this.slotOfTag(tag);
  }

  private slotOfTag(tag: number): number {
    if (tag < 0) return -1;
    const slot = tag % this.capacity;
    return this.inUse[slot] === 1 && (tag - slot) / this.capacity === this.generation[slot] ? slot : -1;
  }

  private release(slot: number): void {
    this.inUse[slot] = 0;
    this.freeList[this.freeTop++] = slot;
  }

  /** The requests in flight since the last begin or end, times the time since then, into bucket `b`. */
  private accrueInFlight(now: number, b: number): void {
    this.ring.f64[b + B_IN_FLIGHT_MS] += (this.capacity - this.freeTop) * (now - this.lastChangeMs);
    this.lastChangeMs = now;
  }

  /** Takes back the slots of requests in flight for longer than ABANDONED_MS; they count as dropped. */
  sweep(now: number): void {
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.inUse[slot] === 1 && now - this.startMs[slot] > ABANDONED_MS) {
        this.accrueInFlight(now, this.ring.bucketFor(now));
        this.generation[slot]++;
        this.release(slot);
        this.ring.f64[H_DROPPED]++;
      }
    }
  }

  get inFlight(): number {
    return this.capacity - this.freeTop;
  }
}

/** Parses 8 hex digits of `s` from `at` into a 32-bit word, without making substrings; -1 on a bad digit. */
function hexWord(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** "00-<32 hex trace id>-<16 hex parent id>-<flags>" into the slot's words; zeros when absent or malformed. */
function writeTraceparent(f: Float64Array, e: number, tp: string | undefined): void {
  for (let i = 0; i < 6; i++) f[e + EX_TRACE + i] = 0;
  if (tp === undefined || tp.length < 55 || tp.charCodeAt(2) !== 45 || tp.charCodeAt(35) !== 45) return;
  for (let i = 0; i < 4; i++) {
    const w = hexWord(tp, 3 + i * 8);
    if (w < 0) return;
    f[e + EX_TRACE + i] = w;
  }
  for (let i = 0; i < 2; i++) {
    const w = hexWord(tp, 36 + i * 8);
    if (w < 0) return;
    f[e + EX_PARENT + i] = w;
  }
}
