/**
 * The kernel tracer's reading of bpftrace's JSON lines (agents/kernel/tracer-output.ts), fed the lines bpftrace 0.17
 * prints for the program's `print(@map)` and `printf`: intervals by difference of the running sums, and what a lost
 * print does to them. The tracer itself, attached to real servers, is in test/agents/kernel/ (test:slow).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTracerLine, TracerFollower, type KernelInterval } from '../../agents/kernel/tracer-output.js';
import { DURATION_CLAMP_NS, DURATION_SCALE, PER_CPU_SUMS } from '../../agents/kernel/tracer-program.js';

const counter = (name: string, value: number) => JSON.stringify({ type: 'map', data: { [`@${name}`]: value } });
const durations = (buckets: Record<number, number>) => JSON.stringify({ type: 'map', data: { '@dur': buckets } });
const tick = (index: number) => JSON.stringify({ type: 'printf', data: `srvlens-tick ${index} ${index * 1e9}\n` });
const lost = (events: number) => JSON.stringify({ type: 'lost_events', data: { events } });

/** One boundary's block: the running sums as of interval `index`'s start, then its tick. */
const block = (index: number, accepts: number, requests: number) => [counter('accepts', accepts), durations({ 40: requests }), tick(index)];

function follow(lines: string[]): { intervals: KernelInterval[]; follower: TracerFollower } {
  const intervals: KernelInterval[] = [];
  const follower = new TracerFollower((i) => intervals.push(i));
  for (const l of lines) follower.take(parseTracerLine(l));
  return { intervals, follower };
}

describe('the kernel tracer\'s output', () => {
  it('gives each interval the difference of the running sums at its two boundaries', () => {
    const { intervals, follower } = follow([...block(10, 0, 0), ...block(11, 5, 7), ...block(12, 9, 20)]);
    expect(intervals.map((i) => [i.index, i.counters.accepts, i.counters.req])).toEqual([[10, 5, 7], [11, 4, 13]]);
    expect(follower.total(2000)).toMatchObject({ accepts: 9, requests: 20, lost_prints: 0, intervals_lost: 0 });
  });

  it('leaves out both intervals a boundary with a lost print bounds, counts them, and keeps the totals whole', () => {
    // The accepts line of boundary 12 was lost: its block holds accepts as of 11 (5), so 11 would read 0 and 12 too many.
    const lines = [...block(10, 0, 0), ...block(11, 5, 7), lost(1), durations({ 40: 20 }), tick(12), ...block(13, 14, 26), ...block(14, 15, 30)];
    const { intervals, follower } = follow(lines);
    expect(intervals.map((i) => i.index)).toEqual([10, 13]);
    expect(intervals[1].counters).toMatchObject({ accepts: 1, req: 4 });
    expect(follower.intervalsLost).toBe(2);
    expect(follower.lastClosed).toBe(13);
    expect(follower.total(4000)).toMatchObject({ accepts: 15, requests: 30, lost_prints: 1, intervals_lost: 2 });
  });

  it('reads bpftrace\'s lost_events with its count, and one without a count as one', () => {
    expect(parseTracerLine(lost(3))).toEqual({ kind: 'lost', events: 3 });
    expect(parseTracerLine(JSON.stringify({ type: 'lost_events' }))).toEqual({ kind: 'lost', events: 1 });
    expect(parseTracerLine('Attaching 12 probes...')).toEqual({ kind: 'other' });
  });
});

describe("the libbpf tracer's C, against the bpftrace program's names", () => {
  // The loader prints the per-CPU tuples by position (native/bpf/tracer.h) under the names tracer-output.ts reads
  // by position from PER_CPU_SUMS: a reordering on one side only would print each figure under another's name.
  const header = readFileSync(new URL('../../native/bpf/tracer.h', import.meta.url), 'utf8');
  const program = readFileSync(new URL('../../native/bpf/tracer.bpf.c', import.meta.url), 'utf8');

  it("names each tuple's members in PER_CPU_SUMS' order", () => {
    for (const [tuple, names] of Object.entries(PER_CPU_SUMS)) {
      const prefix = `${tuple.toUpperCase()}_`;
      const members = header.match(new RegExp(`enum \\{ (${prefix}[A-Z_]+(?:, ${prefix}[A-Z_]+)*) \\};`))?.[1].split(', ');
      expect(members, tuple).toBeDefined();
      expect(members!.map((m) => m.slice(prefix.length).toLowerCase()), tuple).toEqual([...names, 'len']);
    }
  });

  it("keeps the server-time histogram's buckets and clamp", () => {
    const define = (text: string, name: string) => Number(text.match(new RegExp(`#define ${name} (\\d+)`))?.[1]);
    const perOctave = 2 ** DURATION_SCALE;
    // Buckets from 2^-30 s (index -30 x 8) to the clamp's.
    expect(define(header, 'DUR_OFFSET')).toBe(30 * perOctave);
    expect(define(header, 'DUR_BUCKETS') - define(header, 'DUR_OFFSET') - 1).toBe(Math.floor(perOctave * Math.log2(DURATION_CLAMP_NS / 1e9)));
    expect(define(program, 'DURATION_CLAMP_NS')).toBe(DURATION_CLAMP_NS);
  });
});
