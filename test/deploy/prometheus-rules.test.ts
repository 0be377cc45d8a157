/**
 * deploy/prometheus, checked by Debian's promtool: the example config and the recording rules are valid, the rules'
 * unit tests pass, and they would not pass with a wrong expected value or a wrong rule. The rules read only
 * families the agent's page has.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CumulativeTotals } from '../../agents/node/prometheus-cumulative.js';
import { toPrometheusText } from '../../agents/node/prometheus-text.js';
import { ExpHistogram, STAGE_COUNT } from '../../src/vocabulary/index.js';

const PROMTOOL = '/usr/bin/promtool';
const DIR = join(import.meta.dirname, '../../deploy/prometheus');
const RULES = 'srvlens-rules.yml';
const RULES_TEST = 'srvlens-rules.test.yml';

function promtool(args: string[], cwd = DIR): { status: number | null; out: string } {
  if (!existsSync(PROMTOOL)) throw new Error(`promtool is not installed (${PROMTOOL}): run scripts/test-deps.sh`);
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/prometheus', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'srvlens-rules-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** The rules and their tests copied to the scratch directory, with one edit to either. */
  function edited(file: string, from: string, to: string): void {
    copyFileSync(join(DIR, RULES), join(scratch, RULES));
    copyFileSync(join(DIR, RULES_TEST), join(scratch, RULES_TEST));
    const text = readFileSync(join(DIR, file), 'utf8');
    expect(text).toContain(from);
    writeFileSync(join(scratch, file), text.replace(from, to));
  }

  it('has a config and rules promtool finds valid', () => {
    const config = promtool(['check', 'config', 'prometheus.yml']);
    expect(config.out).toContain('SUCCESS: 1 rule files found');
    expect(config.status, config.out).toBe(0);
    const rules = promtool(['check', 'rules', RULES]);
    expect(rules.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(rules.status, rules.out).toBe(0);
  });

  it('passes the rules\' unit tests, whose expected values are worked out by hand', () => {
    const r = promtool(['test', 'rules', RULES_TEST]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('fails them with a wrong expected value, or a rule that forgets the ms', () => {
    edited(RULES_TEST, 'value: 7.5\n', 'value: 7.6\n');
    const wrongValue = promtool(['test', 'rules', RULES_TEST], scratch);
    expect(wrongValue.status).not.toBe(0);
    expect(wrongValue.out).toContain('srvlens_cpu_ms_per_request');

    edited(RULES, '1000 * sum by (job, instance) (rate(srvlens_process_runqueue_wait_seconds_total[1m]))', 'sum by (job, instance) (rate(srvlens_process_runqueue_wait_seconds_total[1m]))');
    const wrongRule = promtool(['test', 'rules', RULES_TEST], scratch);
    expect(wrongRule.status).not.toBe(0);
    expect(wrongRule.out).toContain('srvlens_runqueue_ms_per_request');
  });

  it('reads only families the agent\'s page has', () => {
    const duration = new ExpHistogram();
    duration.record(0.01);
    const totals = new CumulativeTotals();
    const stages = new Array<number>(STAGE_COUNT).fill(1);
    totals.add({
      index: 0,
      startEpochMs: 0,
      endEpochMs: 1000,
      contexts: [{
        tid: 1, name: 'main', kind: 'js', threads: 1, cpuUserMs: 1, cpuSystemMs: 1, voluntary: 1, involuntary: 1, runqueueMs: 1, hasLoop: true, utilization: 0.5,
        bucket: { index: 0, requests: 1, joined: 1, inFlightMs: 10, stageMs: stages, stageEntries: stages, duration: duration.toData(), loopDelay: duration.toData(), exemplars: [], split: null },
      }],
      process: { cpuUserMs: 1, cpuSystemMs: 1, voluntary: 1, involuntary: 1, runqueueMs: 1, rssBytes: 1 },
      dropped: 0,
      errors: 0,
    });
    const page = toPrometheusText(totals, { 'service.name': 'shop' });
    const families = new Set([...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]));
    // The series the expressions select: label lists and recorded rules (level:metric:operations) taken out.
    const exprs = [...readFileSync(join(DIR, RULES), 'utf8').matchAll(/expr: ([^\n]+(?:\n {10}[^\n]+)*)/g)]
      .map((m) => m[1].replace(/\b(?:by|on|group_left)\s*\([^)]*\)/g, '').replace(/[a-z_]+:[a-z_0-9:]+/g, ''))
      .join('\n');
    const read = new Set([...exprs.matchAll(/\b((?:srvlens|http|process|target)_[a-z_]+)\b/g)].map((m) => m[1]));
    expect(read.size).toBeGreaterThan(8);
    expect([...read].filter((name) => !families.has(name))).toEqual([]);
  });
});
