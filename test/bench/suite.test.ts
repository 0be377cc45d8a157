/**
 * The bench suite's arithmetic and output, from given figures: no bench runs here and nothing is timed (speed
 * targets live in bench/, never in tests).
 */
import { describe, expect, it } from 'vitest';
import { expectations } from '../../bench/overhead/checks.js';
import { BENCH_MODELS } from '../../bench/overhead/models.js';
import { pairingProblems, roundOrder, summariseCase, type Pairing, type Trial } from '../../bench/overhead/summary.js';
import { parseOptions } from '../../bench/overhead/options.js';
import { figure, notRun, verdictOf } from '../../bench/suite/figures.js';
import { costTarget, overheadFigures, type OverheadJson } from '../../bench/suite/overhead-figures.js';
import { BEGIN, END, withPerformance, type SuiteResults } from '../../bench/suite/readme.js';
import { SPECS } from '../../bench/suite/specs.js';
import { failureReason } from '../../bench/suite/run-bench.js';
import { markdownTable, tally, textTable } from '../../bench/suite/table.js';

describe('figures', () => {
  it('hold the median of the rounds against the target, either way', () => {
    const cost = figure({ bench: 'b', name: 'cost', unit: '%', samples: [3, 1, 2], target: { op: '<=', value: 2 } });
    expect(cost).toMatchObject({ median: 2, low: 1, high: 3, n: 3, verdict: 'met' });
    expect(figure({ bench: 'b', name: 'cost', unit: '%', samples: [3, 2.5, 4], target: { op: '<=', value: 2 } }).verdict).toBe('MISSED');
    expect(figure({ bench: 'b', name: 'rate', unit: 'x', samples: [0.9, 1.1, 1.0, 1.2], target: { op: '>=', value: 1 } })).toMatchObject({ median: 1.05, verdict: 'met' });
    expect(figure({ bench: 'b', name: 'rate', unit: 'x', samples: [0.7], target: { op: '>=', value: 0.8 } }).verdict).toBe('MISSED');
    expect(figure({ bench: 'b', name: 'rate', unit: '/s', samples: [5] }).verdict).toBe('no target');
  });

  it('over many samples spread p10..p90, not min..max', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i);
    expect(figure({ bench: 'b', name: 'frame', unit: 'ms', samples })).toMatchObject({ low: 10, high: 90, n: 100 });
  });

  it('never meet a target when a check failed, and keep the failure as the note', () => {
    const f = figure({ bench: 'b', name: 'cost', unit: '%', samples: [1], target: { op: '<=', value: 2 }, failedChecks: ['the agent exported nothing'] });
    expect(f.verdict).toBe('MISSED');
    expect(f.note).toContain('check FAILED: the agent exported nothing');
  });

  it('with nothing measured are null and not run, never 0', () => {
    const f = figure({ bench: 'b', name: 'cost', unit: '%', samples: [NaN], target: { op: '<=', value: 2 } });
    expect(f).toMatchObject({ median: null, verdict: 'not run' });
    expect(verdictOf(null, { op: '>=', value: 1 })).toBe('not run');
    expect(notRun('k', 'ratio', 'x', 'needs root').note).toBe('needs root');
  });
});

/** A trial as agent-overhead records it, for summariseCase. */
const fullTrial: Trial = {
  model: 'event-loop', workload: 'hello', round: 0, slot: 0, variant: 'none', reqPerSec: 1000, cpuUsPerRequest: 100, serverBusyPct: 99,
  downstreamBusyPct: null, otherCpuPct: 1, stealPct: 0, responses: 1000, errors: 0, non2xx: 0, seen: null, seenWhat: null,
  downstreamMsPerRequest: null, otelClientSpans: null, exemplars: null, pairing: null, problems: [],
};

describe('agent-overhead figures', () => {
  const trial = (variant: string, round: number, reqPerSec: number, cpu: number, otherCpuPct = 1) => ({
    model: 'event-loop', workload: 'hello', round, variant, reqPerSec, cpuUsPerRequest: cpu, otherCpuPct, stealPct: 0.5,
  });
  const json: OverheadJson = {
    cases: [{ model: 'event-loop', workload: 'hello', checks: ['srvlens: requests: 100 for 100 responses ok'] }],
    trials: [trial('none', 0, 1000, 100), trial('srvlens', 0, 960, 104), trial('none', 1, 800, 100), trial('srvlens', 1, 780, 102), trial('exemplars', 0, 900, 110), trial('exemplars', 1, 720, 110), trial('otel', 0, 500, 200), trial('otel', 1, 400, 200)],
  };

  it('pair each round with its own baseline', () => {
    const figures = overheadFigures([json]);
    const srvlens = figures.find((f) => f.name === 'event-loop hello: srvlens throughput cost')!;
    // Round costs 4 % and 2.5 %: the median of the pairs, not of the medians of the variants.
    expect(srvlens.median).toBeCloseTo(3.25, 6);
    expect(srvlens.low).toBeCloseTo(2.5, 6);
    expect(srvlens).toMatchObject({ n: 2, target: { op: '<=', value: 5 }, verdict: 'met' });
    expect(figures.find((f) => f.name === 'event-loop hello: srvlens CPU per request')!.median).toBeCloseTo(3, 6);
    expect(figures.find((f) => f.name === 'event-loop hello: exemplars throughput cost')!.median).toBeCloseTo(10, 6);
  });

  it('hold a paired trial against the server beside it, not against its round, and report the twins as the noise', () => {
    const beside = (reqPerSec: number, cpu: number) => ({ cores: 0.35, besideReqPerSec: reqPerSec, besideCpuUsPerRequest: cpu, saturatedPct: 95, besideSaturatedPct: 95, besideErrors: 0 });
    // The rounds' none trials (1000, 800 req/s) would say 4 % and 2.5 %; the servers beside say 20 % and 10 %.
    const paired: OverheadJson = {
      ...json,
      trials: json.trials.map((t) =>
        t.variant === 'srvlens' ? { ...t, pairing: beside(t.reqPerSec / (t.round === 0 ? 0.8 : 0.9), 90) } : t.variant === 'none' ? { ...t, pairing: beside(t.reqPerSec / 0.98, 100) } : t,
      ),
    };
    const figures = overheadFigures([paired]);
    expect(figures.find((f) => f.name === 'event-loop hello: srvlens throughput cost')!.median).toBeCloseTo(15, 6);
    expect(figures.find((f) => f.name === 'event-loop hello: srvlens CPU per request')!.low).toBeCloseTo((102 / 90 - 1) * 100, 6);
    expect(figures.find((f) => f.name === "event-loop hello: none beside none (a pair's noise)")!.median).toBeCloseTo(2, 6);
    // Unpaired runs have no noise figure: their none has no twin.
    expect(overheadFigures([json]).some((f) => f.name.includes('beside'))).toBe(false);
    // The bench's own summary reads the pairs alike.
    const trials: Trial[] = paired.trials.map((t) => ({ ...fullTrial, ...t, variant: t.variant as Trial['variant'], pairing: (t.pairing as Pairing | undefined) ?? null }));
    const summary = summariseCase('event-loop', 'hello', expectations(BENCH_MODELS['event-loop'], 'hello'), trials);
    expect(summary.ratios.srvlens.ratio).toBeCloseTo(0.85, 6);
    expect(summary.twins!.ratio).toBeCloseTo(0.98, 6);
  });

  it('void a pair whose servers did not use their CPU budget: the generator set its pace', () => {
    const ok = { cores: 0.35, besideReqPerSec: 1, besideCpuUsPerRequest: 1, saturatedPct: 90, besideSaturatedPct: 88, besideErrors: 0 };
    expect(pairingProblems(ok)).toEqual([]);
    const starved = pairingProblems({ ...ok, besideSaturatedPct: 12 });
    expect(starved).toEqual(['the server beside it used its 0.35-core budget in only 12 % of periods (under 50 %): not saturated, so the pair measures the generator']);
  });

  it('run the variants asked for, none always, and list the others as not run', () => {
    expect(parseOptions(['--variants', 'none,srvlens,exemplars', '--pair', 'off']).variants).toEqual(['none', 'srvlens', 'exemplars']);
    expect(() => parseOptions(['--variants', 'srvlens', '--pair', 'off'])).toThrow(/must list none/);
    expect(() => parseOptions(['--variants', 'none,statsd', '--pair', 'off'])).toThrow(/must list none/);
    expect(roundOrder(1, ['none', 'srvlens', 'exemplars'])).toEqual(['srvlens', 'exemplars', 'none']);
    const trials = (['none', 'srvlens'] as const).map((variant) => ({ ...fullTrial, variant }));
    const { checks } = summariseCase('thread-pool', 'hello', expectations(BENCH_MODELS['thread-pool'], 'hello'), trials);
    expect(checks).toContain('otel: not run (--variants)');
    const run: OverheadJson = { cases: [{ model: 'thread-pool', workload: 'hello', checks }], trials };
    expect(overheadFigures([run]).find((f) => f.name === 'thread-pool hello: otel throughput cost')).toMatchObject({ verdict: 'not run', note: 'otel was not among this run\'s variants (--variants)' });
  });

  it('say where other processes took a share of a core during a trial, as the bench itself cautions', () => {
    const quiet = overheadFigures([json]).find((f) => f.name === 'event-loop hello: srvlens throughput cost')!;
    expect(quiet.note).toBeNull();
    const busy: OverheadJson = { ...json, trials: json.trials.map((t, i) => (i === 1 ? { ...t, otherCpuPct: 96 } : t)) };
    const noisy = overheadFigures([busy]).find((f) => f.name === 'event-loop hello: srvlens throughput cost')!;
    expect(noisy.note).toBe('other processes took up to 96 % of a core in a trial: rerun when the machine is quiet');
    expect(noisy.verdict).toBe('met');
  });

  it("say that prom-client's anchor was not run rather than leave it out", () => {
    const prom = overheadFigures([json]).find((f) => f.name.includes('prom-client'))!;
    expect(prom.verdict).toBe('not run');
    const withProm: OverheadJson = { ...json, trials: [...json.trials, trial('prom-client', 0, 970, 103), trial('prom-client', 1, 790, 101)] };
    // prom-client costs 3 % and 1.25 % (median 2.125): srvlens's 3.25 % is over it.
    expect(overheadFigures([withProm]).find((f) => f.name.includes('prom-client'))).toMatchObject({ verdict: 'MISSED', target: { op: '<=' } });
    // On a server that does not use node:http prom-client observes nothing: no anchor, and the table says why.
    const unseen = 'prom-client: 0 observations: this model does not use node:http (prom-client/none is the cost of the loaded library alone)';
    const raw: OverheadJson = { ...withProm, cases: [{ ...withProm.cases[0], checks: [...withProm.cases[0].checks, unseen] }] };
    expect(overheadFigures([raw]).find((f) => f.name.includes('prom-client'))).toMatchObject({ verdict: 'not run', note: unseen.slice('prom-client: '.length) });
  });

  it("say why prom-client's anchor was not run on prefork, whose workers cannot be asked, in the bench's own words", () => {
    const trials = (['none', 'prom-client'] as const).map((variant) => ({ ...fullTrial, model: 'prefork', variant }));
    const { checks } = summariseCase('prefork', 'hello', expectations(BENCH_MODELS.prefork, 'hello'), trials);
    const line = checks.find((l) => l.startsWith('prom-client'))!;
    expect(line).toMatch(/^prom-client: not run: this model does not use node:http.*blocks in accept/);
    const json: OverheadJson = { cases: [{ model: 'prefork', workload: 'hello', checks }], trials: [...trials, { ...trials[0], variant: 'srvlens' }] };
    expect(overheadFigures([json]).find((f) => f.name.includes('prom-client'))).toMatchObject({ verdict: 'not run', note: line.slice('prom-client: '.length) });
  });

  it("take issue 18's targets: 2 % on default, 5 % on hello, exemplars 5 % on default", () => {
    expect(costTarget('srvlens', 'default')).toEqual({ op: '<=', value: 2 });
    expect(costTarget('srvlens', 'hello')).toEqual({ op: '<=', value: 5 });
    expect(costTarget('exemplars', 'default')).toEqual({ op: '<=', value: 5 });
  });
});

describe('kernel-tracer-cost figures', () => {
  const kernel = SPECS.find((s) => s.id === 'kernel-tracer-cost')!;
  const result = (over: object) => ({ server: 'nginx', backend: 'libbpf', default: true, target: 0.95, pair_ratios: [0.96, 0.96], toll_pcts: [2, 2], ratios: [0.9408, 0.9408], problems: [], ...over });

  it('hold the pair less its syscall toll to the target (a pair that meets it alone may not), and give the toll and the plain pair beside it', () => {
    const figs = kernel.figures([{ results: [result({})], noise: [{ server: 'nginx', ratios: [1.01, 0.99], problems: [] }] }]);
    expect(figs.map((f) => [f.name, f.verdict])).toEqual([
      ['nginx: traced / plain req/s', 'MISSED'],
      ['nginx: toll on the untraced the pair misses', 'no target'],
      ['nginx: plain beside plain req/s', 'no target'],
    ]);
    expect(figs[0]).toMatchObject({ median: 0.9408, note: 'pair 0.960, less the toll on the untraced it misses (2.00 %)' });
    expect(figs[1].median).toBe(2);
  });

  it('never meet the target where a pair failed its checks, and say the toll was not measured, and why', () => {
    const figs = kernel.figures([{ results: [result({ ratios: [0.99], toll_pcts: [], problems: ['round 1: not saturated'] })], noise: [], toll_unavailable: 'no cc' }]);
    expect(figs[0]).toMatchObject({ verdict: 'MISSED' });
    expect(figs[0].note).toContain('not saturated');
    expect(figs[1]).toMatchObject({ verdict: 'not run', note: 'no cc' });
  });
});

describe('the table and the README', () => {
  const figures = [
    figure({ bench: 'generator', name: 'srvlens / wrk req/s', unit: 'x', samples: [0.7, 0.75], target: { op: '>=', value: 0.8 } }),
    notRun('kernel-tracer-cost', 'nginx: traced / plain req/s', 'x', 'not run here: needs root', { op: '>=', value: 0.95 }),
  ];
  const results: SuiteResults = {
    date: '2026-12-07T07:00:00.000Z',
    command: 'npm run bench -- --quick',
    quick: true,
    seconds: 540,
    machine: { cpus: 2, cpu_quota_cores: null, cpu_model: 'AMD EPYC', cpu_speed_ghz: null, memory_bytes: 8e9, os: 'Debian 12', kernel: '6.18', hostname: 'h', node: 'v20.20.2', virtual: null, container: false, cpu_governor: null },
    benches: [],
    figures,
  };

  it('print every figure with its verdict and the figure beside a MISSED', () => {
    const text = textTable(figures);
    expect(text).toMatch(/srvlens \/ wrk req\/s\s+0\.725 x\s+0\.700\.\.0\.750 \(2\)\s+>= 0\.800 x\s+MISSED/);
    expect(text).toMatch(/nginx: traced \/ plain req\/s\s+-\s+-\s+>= 0\.950 x\s+not run\s+not run here: needs root/);
    expect(tally(figures)).toBe('0 met, 1 MISSED, 1 not run, 0 without a target');
    expect(markdownTable(figures).split('\n')[2]).toBe('| generator | srvlens / wrk req/s | 0.725 x | 0.700..0.750 (2) | >= 0.800 x | MISSED |  |');
  });

  it('write the Performance section once, between its markers, and replace it on the next run', () => {
    const readme = '# srvlens\n\n## Recordings\n\ntext\n\n## Layout\n\nfiles\n';
    const once = withPerformance(readme, results, 'bench-results.json');
    expect(once.indexOf('## Performance')).toBeGreaterThan(once.indexOf('## Recordings'));
    expect(once.indexOf('## Performance')).toBeLessThan(once.indexOf('## Layout'));
    expect(once).toContain('`npm run bench -- --quick`');
    expect(once).toContain('| generator | srvlens / wrk req/s |');
    const twice = withPerformance(once, { ...results, date: '2026-12-08T07:00:00.000Z' }, 'bench-results.json');
    expect(twice.split(BEGIN)).toHaveLength(2);
    expect(twice.split(END)).toHaveLength(2);
    expect(twice).toContain('2026-12-08 07:00');
    expect(twice).not.toContain('2026-12-07 07:00');
    expect(twice.endsWith('## Layout\n\nfiles\n')).toBe(true);
  });
});

describe("a failed bench's reason", () => {
  it('is its error and the line after, not the stack', () => {
    const tail = [
      "agent-overhead: Error: thread-pool server (none) exited (code 1) before 'ready':",
      "the blocking models need srvlens's native addon (blocking accept, recv and send), which did not load here",
      '    at ChildProcess.onExit (file:///x/children.js:63:53)',
      '    at Object.onceWrapper (node:events:639:26)',
    ];
    expect(failureReason(tail)).toBe(`${tail[0]} / ${tail[1]}`);
    const thrown = ['file:///x/kernel-tracer-cost.js:65', '    throw new Error(`nothing answered on port ${port}`);', '          ^', '', 'Error: nothing answered on port 42111', '    at waitListening (file:///x:65:11)', '', 'Node.js v20.20.2'];
    expect(failureReason(thrown)).toMatch(/^Error: nothing answered on port 42111/);
    expect(failureReason(['progress', 'killed'])).toBe('progress / killed');
  });
});
