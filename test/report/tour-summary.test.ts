/**
 * The report's answers on a recorded tour (this machine, 2 cores: `srvlens run scenarios/tour.yaml`): what gave out
 * per model, and peaks held against the lecture's formulas worked from figures the agents measured apart from the
 * client's throughput: a blocking model's ceiling is its contexts / the time each request holds one (S + W, here
 * the handler's parts at the lightest step).
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { reportFromFile } from '../../src/report/load-report.js';
import { renderText } from '../../src/report/text-report.js';
import { renderMarkdown } from '../../src/report/markdown-report.js';
import { parseSloText } from '../../src/scenario/slo.js';
import type { Slo } from '../../src/vocabulary/index.js';
import type { Report } from '../../src/report/json-report.js';

const TOUR = fileURLToPath(new URL('./fixtures/tour.srvlens.gz', import.meta.url));
const SLO = parseSloText('p99<100ms, errors<1%') as Slo;

/** A generator run's summary (the tour has no other kind). */
const summaryOfRun = (run: Report['runs'][number]) => {
  if (run.source !== 'generator' || !run.summary) throw new Error(`no load curve's summary for ${run.server}`);
  return run.summary;
};
const summaryOf = (report: Report, server: string) => {
  const run = report.runs.find((r) => r.server === server);
  if (!run) throw new Error(`no run of ${server}`);
  return { run, summary: summaryOfRun(run) };
};

/** Handler time at the lightest step, ms: parse to send. */
function holdMs(report: Report, server: string): number {
  const { run } = summaryOf(report, server);
  const p = run.phases[0].parts_ms;
  return [p.parse, p.process, p.downstream, p.transform, p.send].reduce<number>((s, v) => s + (v ?? 0), 0);
}

describe('the report on the tour', async () => {
  const report = await reportFromFile(TOUR, SLO);

  it('names what gave out for every model as the lecture expects', () => {
    const expected: Record<string, string> = {
      iterative: 'accept_queue',
      'thread-pool-8': 'accept_queue',
      'prefork-4': 'accept_queue',
      'thread-per-conn': 'context_creation',
      'fork-per-conn': 'context_creation',
      'event-loop': 'not_reached',
      'event-loop-raw': 'not_reached',
      'loop-per-core': 'not_reached',
      'hybrid-2': 'not_reached',
    };
    expect(Object.fromEntries(report.runs.map((r) => [r.server, summaryOfRun(r).limited_by]))).toEqual(expected);
    for (const r of report.runs) expect(summaryOfRun(r).evidence.length, r.server).toBeGreaterThan(0);
  });

  it('puts the blocking models\' peaks at contexts / (S + W), within 15 %', () => {
    for (const [server, contexts] of [['iterative', 1], ['thread-pool-8', 8], ['prefork-4', 4]] as const) {
      const predicted = (contexts * 1000) / holdMs(report, server);
      const peak = summaryOf(report, server).summary.peak_rps!;
      expect(Math.abs(peak - predicted) / predicted, `${server}: peak ${peak} req/s, ${contexts} / ${holdMs(report, server).toFixed(2)} ms = ${predicted.toFixed(1)}`).toBeLessThan(0.15);
    }
  });

  it('ranks the event loops past every blocking model, and the per-connection models last', () => {
    const order = report.comparison.map((r) => r.server);
    const peak = (s: string) => summaryOf(report, s).summary.peak_rps!;
    for (const loop of ['event-loop', 'event-loop-raw', 'loop-per-core', 'hybrid-2']) {
      for (const other of ['iterative', 'thread-pool-8', 'prefork-4', 'thread-per-conn', 'fork-per-conn']) expect(peak(loop), `${loop} over ${other}`).toBeGreaterThan(peak(other));
    }
    expect(order.slice(-2).sort()).toEqual(['fork-per-conn', 'thread-per-conn']);
  });

  it('says which degrade gracefully, the max sustainable rate within the SLO, and the knee below the peak\'s step', () => {
    expect(summaryOf(report, 'iterative').summary.graceful).toBe(false);
    expect(summaryOf(report, 'thread-per-conn').summary.graceful).toBe(false);
    expect(summaryOf(report, 'prefork-4').summary.graceful).toBe(true);
    expect(summaryOf(report, 'event-loop').summary.graceful).toBeNull(); // never offered twice its peak
    expect(summaryOf(report, 'event-loop').summary.max_sustainable_rps).toBe(400);
    expect(summaryOf(report, 'thread-pool-8').summary.max_sustainable_rps).toBe(200);
    expect(summaryOf(report, 'thread-pool-8').summary.knee_rps).toBe(200);
    expect(summaryOf(report, 'event-loop').summary.knee_rps).toBeNull();
    expect(report.slo).toBe('p99<100ms, errors<1%');
  });

  it('carries each server\'s resident memory at the knee, from its agents', () => {
    for (const r of report.runs) expect(summaryOfRun(r).cost_at_knee!.rss_mb, r.server).toBeGreaterThan(20);
  });

  it('predicts the pool\'s capacity from its size, naming the model of the prediction', () => {
    const p = summaryOf(report, 'thread-pool-8').summary.predictions[0];
    expect(p.change).toBe('threads: 8 -> 16');
    expect(p.basis).toMatch(/^simple capacity of a blocking pool: 16 \//);
    expect(p.predicted_rps).toBeCloseTo((16 * 1000) / holdMs(report, 'thread-pool-8'), 0);
  });

  it('opens the text with every server\'s peak, knee and what gave out, within 100 columns', () => {
    const first = renderText(report).split('\n').slice(0, 20);
    for (const r of report.runs) {
      const line = first.find((l) => l.startsWith(`${r.server} `));
      expect(line, r.server).toBeDefined();
      expect(line).toContain(summaryOfRun(r).limited_by);
      expect(line).toContain(summaryOfRun(r).peak_rps!.toFixed(1));
    }
    for (const l of first) expect(l.length, l).toBeLessThanOrEqual(100);
    const md = renderMarkdown(report);
    for (const r of report.runs) expect(md).toContain(`| ${r.server} | ${r.model} |`);
  });
});
