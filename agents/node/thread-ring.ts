/**
 * One JavaScript thread's interval data, in a SharedArrayBuffer that the agent thread reads (or, in a child process
 * whose parent's agent reads it, in memory both processes map: shared-rings.ts).
 *
 * Eight buckets, one per interval index modulo 8, each stamped with its index. The recording thread writes only
 * into the bucket of the interval it is in (resetting it when the stamp is old); the agent thread reads bucket k
 * a few milliseconds after interval k ended, by which time no writer touches it again for seven intervals. No
 * locks, no messages per request, and it works for threads that block for seconds in the kernel: the agent
 * thread never needs their event loop to run.
 */
import { ExpHistogram, type ExpHistogramData } from '../../src/vocabulary/exp-histogram.js';
import { STAGE_COUNT } from '../../src/vocabulary/parts.js';
import { intervalIndex } from '../../src/vocabulary/clock.js';

// Header (doubles).
export const H_TID = 0;
export const H_HAS_LOOP = 1;
/** Cumulative event-loop idle and active ms (performance.eventLoopUtilization), refreshed by the thread's sampler. */
export const H_ELU_IDLE = 2;
export const H_ELU_ACTIVE = 3;
/** Cumulative counts: requests not tracked (no free slot), errors the agent caught in this thread. */
export const H_DROPPED = 4;
export const H_ERRORS = 5;
/** The newest interval the agent thread has read from this ring (-1: none yet). */
export const H_HARVESTED = 6;
/** The thread's name (its context's), UTF-8 in NAME_BYTES from this double on, zero-padded: for a reader in another process. */
const H_NAME = 8;
const NAME_BYTES = 32;
const HEADER = H_NAME + NAME_BYTES / 8;

// Bucket fields (doubles from the bucket's start).
export const B_INDEX = 0;
export const B_REQUESTS = 1;
export const B_JOINED = 2;
export const B_STAGE_MS = 3;
export const B_STAGE_ENTRIES = B_STAGE_MS + STAGE_COUNT;
/**
 * Requests whose wall time was split by the thread's schedstat, the split (ms: on CPU, run queue, blocked, the last
 * what is left of the wall time, never below 0), and their wall time itself (ms, from the clock, to hold the
 * schedstat's on CPU and run queue against).
 */
export const B_SPLIT_REQUESTS = B_STAGE_ENTRIES + STAGE_COUNT;
export const B_SPLIT_ONCPU = B_SPLIT_REQUESTS + 1;
export const B_SPLIT_RUNQ = B_SPLIT_REQUESTS + 2;
export const B_SPLIT_BLOCKED = B_SPLIT_REQUESTS + 3;
export const B_SPLIT_WALL = B_SPLIT_REQUESTS + 4;
/**
 * Requests in flight on this thread integrated over time, ms (the request-milliseconds of the interval): divided by
 * the interval's length, the mean number in flight. Added at every begin and end (in flight so far times the time
 * since the last change), in the bucket of that event: an interval without events carries its share into the next.
 */
export const B_IN_FLIGHT_MS = B_SPLIT_REQUESTS + 5;
/**
 * Exemplars (when enabled): EX_SLOTS requests of the interval kept whole, the EX_SLOWEST slowest then a uniform
 * sample (reservoir) of the rest. A slot: filled, wall ms, start (ms, shared clock), client send ms (-1: unknown),
 * the W3C trace id as four 32-bit words, the parent span id as two (zeros: none), then each stage's ms.
 */
export const EX_SLOTS = 4;
export const EX_SLOWEST = 2;
export const EX_FILLED = 0;
export const EX_WALL = 1;
export const EX_START = 2;
export const EX_SEND = 3;
export const EX_TRACE = 4;
export const EX_PARENT = 8;
export const EX_STAGES = 10;
export const EX_SIZE = EX_STAGES + STAGE_COUNT;
export const B_EXEMPLARS = B_IN_FLIGHT_MS + 1;
const B_DURATION = B_EXEMPLARS + EX_SLOTS * EX_SIZE;

/** Request durations, seconds: 100 ns .. 10^4 s. Loop delay, seconds: 1 µs .. 1000 s. */
export const DURATION_RANGE = [1e-7, 1e4] as const;
export const DELAY_RANGE = [1e-6, 1e3] as const;
const DURATION_SLOTS = ExpHistogram.slots(...DURATION_RANGE);
const B_DELAY = B_DURATION + DURATION_SLOTS;
const BUCKET = B_DELAY + ExpHistogram.slots(...DELAY_RANGE);
/** Eight intervals: the agent thread may start (load its exporter) several intervals after the first requests. */
const BUCKETS = 8;
/** A ring's size in bytes. */
export const RING_BYTES = (HEADER + BUCKETS * BUCKET) * 8;

export interface BucketData {
  index: number;
  requests: number;
  joined: number;
  stageMs: number[];
  stageEntries: number[];
  duration: ExpHistogramData;
  loopDelay: ExpHistogramData;
  exemplars: ExemplarData[];
  /** Present when the thread ran one request at a time: its requests' wall time split by schedstat, ms. */
  split: { requests: number; onCpuMs: number; runqueueMs: number; blockedMs: number; wallMs: number } | null;
  /** Requests in flight integrated over time, request-ms (B_IN_FLIGHT_MS). */
  inFlightMs: number;
}

export interface ExemplarData {
  kind: 'slowest' | 'sample';
  wallMs: number;
  startMs: number;
  sendMs: number;
  /** 32 and 16 hex digits; empty when the request carried no traceparent. */
  traceId: string;
  parentSpanId: string;
  stageMs: number[];
}

const hex32 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

export class ThreadRing {
  readonly f64: Float64Array;
  /** Called (writer side) when a bucket of requests nobody read is reused. */
  onLost: (() => void) | null = null;
  private readonly durations: ExpHistogram[] = [];
  private readonly delays: ExpHistogram[] = [];

  constructor(
    readonly intervalMs: number,
    /** Shared with the reader: a SharedArrayBuffer in a process, memory mapped by both in a child (shared-rings.ts). */
    readonly buffer: SharedArrayBuffer | ArrayBuffer = new SharedArrayBuffer(RING_BYTES),
    fresh = true,
  ) {
    this.f64 = new Float64Array(buffer);
    for (let b = 0; b < BUCKETS; b++) {
      const base = HEADER + b * BUCKET;
      this.durations.push(new ExpHistogram(...DURATION_RANGE, undefined, this.f64.subarray(base + B_DURATION, base + B_DELAY)));
      this.delays.push(new ExpHistogram(...DELAY_RANGE, undefined, this.f64.subarray(base + B_DELAY, base + BUCKET)));
      if (fresh) this.f64[base + B_INDEX] = -1;
    }
    if (fresh) this.f64[H_HARVESTED] = -1;
  }

  /** The thread's name, cut to NAME_BYTES of UTF-8 (at a character's boundary). */
  setName(name: string): void {
    const bytes = new Uint8Array(this.buffer, H_NAME * 8, NAME_BYTES);
    bytes.fill(0);
    let n = 0;
    for (const ch of name) {
      const b = Buffer.from(ch, 'utf8');
      if (n + b.length > NAME_BYTES) break;
      bytes.set(b, n);
      n += b.length;
    }
  }

  name(): string {
    const bytes = new Uint8Array(this.buffer, H_NAME * 8, NAME_BYTES);
    const end = bytes.indexOf(0);
    return Buffer.from(bytes.subarray(0, end < 0 ? NAME_BYTES : end)).toString('utf8');
  }

  /** Writer side: the start offset of the bucket for the interval holding `nowMs`, reset if it held an older one. */
  bucketFor(nowMs: number): number {
    const index = intervalIndex(nowMs, this.intervalMs);
    const b = index & (BUCKETS - 1);
    const base = HEADER + b * BUCKET;
    const old = this.f64[base + B_INDEX];
    if (old !== index) {
      // A bucket the agent thread never read (it started late, or was starved for eight intervals): its requests
      // are lost, and counted as dropped rather than silently gone.
      if (old > this.f64[H_HARVESTED] && this.f64[base + B_REQUESTS] > 0) {
        this.f64[H_DROPPED] += this.f64[base + B_REQUESTS];
        this.onLost?.();
      }
      this.f64.fill(0, base, base + B_DURATION);
      this.durations[b].reset();
      this.delays[b].reset();
      this.f64[base + B_INDEX] = index;
    }
    return base;
  }

  durationAt(base: number): ExpHistogram {
    return this.durations[(base - HEADER) / BUCKET];
  }

  delayAt(base: number): ExpHistogram {
    return this.delays[(base - HEADER) / BUCKET];
  }

  /** Reader side: interval `index`'s data, or null when the thread recorded nothing in it. */
  read(index: number): BucketData | null {
    const b = index & (BUCKETS - 1);
    const base = HEADER + b * BUCKET;
    if (this.f64[base + B_INDEX] !== index) return null;
    return {
      index,
      requests: this.f64[base + B_REQUESTS],
      joined: this.f64[base + B_JOINED],
      stageMs: Array.from(this.f64.subarray(base + B_STAGE_MS, base + B_STAGE_MS + STAGE_COUNT)),
      stageEntries: Array.from(this.f64.subarray(base + B_STAGE_ENTRIES, base + B_STAGE_ENTRIES + STAGE_COUNT)),
      duration: this.durations[b].toData(),
      loopDelay: this.delays[b].toData(),
      exemplars: this.readExemplars(base),
      inFlightMs: this.f64[base + B_IN_FLIGHT_MS],
      split:
        this.f64[base + B_SPLIT_REQUESTS] > 0
          ? {
              requests: this.f64[base + B_SPLIT_REQUESTS],
              onCpuMs: this.f64[base + B_SPLIT_ONCPU],
              runqueueMs: this.f64[base + B_SPLIT_RUNQ],
              blockedMs: this.f64[base + B_SPLIT_BLOCKED],
              wallMs: this.f64[base + B_SPLIT_WALL],
            }
          : null,
    };
  }

  private readExemplars(base: number): ExemplarData[] {
    const out: ExemplarData[] = [];
    for (let k = 0; k < EX_SLOTS; k++) {
      const e = base + B_EXEMPLARS + k * EX_SIZE;
      if (this.f64[e + EX_FILLED] !== 1) continue;
      const words = (from: number, n: number) => Array.from({ length: n }, (_, i) => this.f64[e + from + i]);
      const trace = words(EX_TRACE, 4);
      const parent = words(EX_PARENT, 2);
      out.push({
        kind: k < EX_SLOWEST ? 'slowest' : 'sample',
        wallMs: this.f64[e + EX_WALL],
        startMs: this.f64[e + EX_START],
        sendMs: this.f64[e + EX_SEND],
        traceId: trace.some((w) => w !== 0) ? trace.map(hex32).join('') : '',
        parentSpanId: parent.some((w) => w !== 0) ? parent.map(hex32).join('') : '',
        stageMs: words(EX_STAGES, STAGE_COUNT),
      });
    }
    return out;
  }
}
