/**
 * Issue 19's overload test, its measuring parts: a reference server's capacity, its normal latency, its process
 * tree's memory and contexts from /proc while the flood runs, and how long after the flood its latency is normal
 * again. Everything is read from outside the server (a plain client, /proc), so no agent's figure is trusted here.
 */
import net from 'node:net';
import { readTreeSnapshot } from '../../agents/proc/tree-snapshot.js';
import { runGenerator } from '../../src/load/generate.js';
import type { GeneratorConfig, PhaseConfig } from '../../src/load/config.js';
import type { GeneratorInterval } from '../../src/vocabulary/frames.js';

/** Resident memory (bytes) and contexts (threads, processes) of a server's whole process tree. */
export interface GroupSample {
  rss_bytes: number;
  threads: number;
  processes: number;
}

/** The tree of `root` as the /proc agent reads it (agents/proc/tree-snapshot.ts); zeros once it is gone. */
export function sampleGroup(root: number): GroupSample {
  const processes = readTreeSnapshot(root, 0, false)?.processes ?? [];
  return {
    rss_bytes: processes.reduce((s, p) => s + (p.rss_bytes ?? 0), 0),
    threads: processes.reduce((s, p) => s + p.threads.length, 0),
    processes: processes.length,
  };
}

/**
 * One GET on a fresh connection, as a newcomer's client would send it: its latency in ms from connect to the end of
 * the answer, or null if it was not a 200 within `timeoutMs`.
 */
export function timedGet(port: number, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let got = '';
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok ? performance.now() - started : null);
    };
    socket.on('data', (d) => {
      got += d.toString('latin1');
      // The reference servers answer with a Content-Length; the answer is whole once its body is.
      const head = got.indexOf('\r\n\r\n');
      const length = /content-length: *(\d+)/i.exec(got);
      if (head >= 0 && length && got.length >= head + 4 + Number(length[1])) finish(got.startsWith('HTTP/1.1 200'));
    });
    socket.on('close', () => finish(false));
    socket.on('error', () => undefined); // a reset is reported by 'close'
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

/** Median latency of `n` GETs, one after another, on an otherwise idle server. */
export async function normalLatency(port: number, n = 15): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = await timedGet(port, 2000);
    if (t === null) throw new Error(`a GET on the idle server at :${port} failed`);
    ms.push(t);
  }
  return median(ms);
}

function generatorConfig(port: number, phase: PhaseConfig, connections: number): GeneratorConfig {
  // A new connection per request: every request goes through the accept queue, where the blocking models' caps
  // (threads, processes) hold the rest; keep-alive would pin a blocking model's contexts to a few clients.
  return { target: { host: '127.0.0.1', port }, request: { method: 'GET', path: '/' }, connections, timeout_ms: 2000, interval_ms: 1000, phases: [phase], connection: 'new' };
}

/** Requests a second the server completes with `users` clients in a closed loop, no think time. */
export async function measuredCapacity(port: number, users: number, seconds: number): Promise<number> {
  const intervals: GeneratorInterval[] = [];
  await runGenerator(generatorConfig(port, { name: 'capacity', kind: 'closed', users, duration_s: seconds, warmup_s: 1 }, users), (_i, _t, d) => intervals.push(d));
  const measured = intervals.filter((d) => !d.warmup);
  return measured.reduce((s, d) => s + d.completed, 0) / seconds;
}

export interface Flood {
  intervals: GeneratorInterval[];
  /** /proc samples of the server's process group, one a second, through the flood. */
  samples: (GroupSample & { at_s: number })[];
}

/** Open loop at `rate` for `seconds`, at most `connections` at once; the generator is stopped dead at the end. */
export async function flood(port: number, root: number, rate: number, seconds: number, connections: number): Promise<Flood> {
  const intervals: GeneratorInterval[] = [];
  const samples: Flood['samples'] = [];
  const started = Date.now();
  const sampler = setInterval(() => samples.push({ ...sampleGroup(root), at_s: (Date.now() - started) / 1000 }), 1000);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), seconds * 1000);
  try {
    // No warmup: the flood starts at once, as a burst does. The phase is longer than the abort so that nothing
    // drains gently at its end: the clients vanish at once.
    await runGenerator(generatorConfig(port, { name: 'flood', kind: 'constant', rate, duration_s: seconds + 5 }, connections), (_i, _t, d) => intervals.push(d), stop.signal);
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
  }
  return { intervals, samples };
}

/**
 * Seconds from now until `run` GETs in a row each answer within `boundMs`, probing one at a time; null if that has
 * not happened within `withinS` seconds.
 */
export async function recoverySeconds(port: number, boundMs: number, withinS: number, run = 5): Promise<number | null> {
  const started = performance.now();
  let firstGood: number | null = null;
  let good = 0;
  while (performance.now() - started < withinS * 1000) {
    const sentAt = performance.now();
    const t = await timedGet(port, 1000);
    if (t !== null && t <= boundMs) {
      if (good++ === 0) firstGood = sentAt;
      if (good >= run) return (firstGood! - started) / 1000;
    } else {
      good = 0;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}
