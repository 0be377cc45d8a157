/**
 * Every bench the suite runs: its built entry point, its arguments in a quick and a full run, what it needs from the
 * machine, and how its JSON becomes figures. Benches written for the suite print `{ figures: [...] }` (SuiteJson);
 * the older ones keep their own JSON and are read here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LOADER } from '../../agents/kernel/kernel-tracer.js';
import { figure, notRun, type Figure, type FigureInput } from './figures.js';
import { overheadFigures, type OverheadJson } from './overhead-figures.js';
import { median } from '../overhead/summary.js';

/** What a bench written for the suite prints with --json: its figures, raw (samples, not medians). */
export interface SuiteJson {
  figures: Omit<FigureInput, 'bench'>[];
}

export interface BenchSpec {
  id: string;
  /** Relative to dist/bench. */
  entry: string;
  nodeArgs?: string[];
  /** One child run per argument list (--json is added); their JSON goes to `figures` together. */
  runs(quick: boolean): string[][];
  /** Why it cannot run on this machine, or null. */
  unavailable?(): string | null;
  /** The figures it would give, for the table when it does not run: names and units. */
  planned: { name: string; unit: string }[];
  figures(json: unknown[]): Figure[];
  /** A bound on one child run; past it the run is stopped and reported. */
  timeoutS: number;
  /** Figures left out of a quick run, and why, so the table still names them. */
  quickLeavesOut?: { name: string; unit: string; why: string }[];
}

function onPath(command: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version: only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

const suiteFigures = (bench: string) => (json: unknown[]): Figure[] =>
  (json as SuiteJson[]).flatMap((j) => j.figures.map((f) => figure({ ...f, bench })));

interface GeneratorJson {
  trials: { tool: 'srvlens' | 'autocannon' | 'wrk' }[];
  /** Per round, srvlens's figure over the peer's (bench/generator.ts perRound). */
  ratios: { rps_over_autocannon: number[]; rps_over_wrk: number[]; cpu_over_autocannon: number[] };
}

/** srvlens's generator against a peer, per round (each tool in an equal CPU budget, the tools of a round in turn). */
function generatorFigures(json: unknown[]): Figure[] {
  const { trials, ratios } = json[0] as GeneratorJson;
  const bench = 'generator';
  const wrk = trials.some((t) => t.tool === 'wrk');
  return [
    figure({ bench, name: 'srvlens / autocannon req/s', unit: 'x', samples: ratios.rps_over_autocannon, target: { op: '>=', value: 1 } }),
    wrk
      ? figure({ bench, name: 'srvlens / wrk req/s', unit: 'x', samples: ratios.rps_over_wrk, target: { op: '>=', value: 0.8 } })
      : notRun(bench, 'srvlens / wrk req/s', 'x', 'wrk is not installed (apt-get install -y wrk)', { op: '>=', value: 0.8 }),
    figure({ bench, name: 'srvlens / autocannon CPU per request', unit: 'x', samples: ratios.cpu_over_autocannon, target: { op: '<=', value: 1 } }),
  ];
}

interface KernelJson {
  /** One per server and backend; `default` is the backend srvlens runs here (its figure is held to the target). */
  results: {
    server: string;
    backend?: string;
    default?: boolean;
    /** Per trial: the pair's ratio with the syscall toll it misses taken off (the pair's alone where unmeasured). */
    ratios: number[];
    pair_ratios?: number[];
    toll_pcts?: number[];
    target: number;
    problems?: string[];
  }[];
  /** Plain beside plain, per server: the pairs' noise (empty unpaired). */
  noise?: { server: string; ratios: number[]; problems: string[] }[];
  toll_unavailable?: string | null;
}

const fixed = (xs: readonly number[] | undefined, digits = 3) => (xs === undefined || xs.length === 0 ? null : median(xs).toFixed(digits));

function kernelFigures(json: unknown[]): Figure[] {
  const j = json[0] as KernelJson;
  const bench = 'kernel-tracer-cost';
  return [
    ...j.results.flatMap((r) => {
      const held = r.default ?? true;
      const who = `${r.server}${held ? '' : `, ${r.backend}`}`;
      const pair = fixed(r.pair_ratios);
      const note = pair === null ? null : `pair ${pair}, less the toll on the untraced it misses (${fixed(r.toll_pcts, 2) ?? '-'} %)`;
      const main = figure({ bench, name: `${who}: traced / plain req/s`, unit: 'x', samples: r.ratios, target: held ? { op: '>=', value: r.target } : null, failedChecks: r.problems, note });
      const toll =
        r.toll_pcts === undefined
          ? []
          : [r.toll_pcts.length > 0 ? figure({ bench, name: `${who}: toll on the untraced the pair misses`, unit: '%', samples: r.toll_pcts }) : notRun(bench, `${who}: toll on the untraced the pair misses`, '%', j.toll_unavailable ?? 'not paired')];
      return [main, ...toll];
    }),
    ...(j.noise ?? []).map((n) =>
      n.ratios.length > 0
        ? figure({ bench, name: `${n.server}: plain beside plain req/s`, unit: 'x', samples: n.ratios, failedChecks: n.problems, note: "the pairs' noise" })
        : notRun(bench, `${n.server}: plain beside plain req/s`, 'x', 'not paired'),
    ),
  ];
}

/**
 * The variants on the models that do not use node:http (agent-overhead --variants): prom-client's histogram and
 * OTel's HttpInstrumentation would measure a loaded library that observes nothing there (the anchor is node:http's).
 */
const BLOCKING_VARIANTS = 'none,srvlens,exemplars';

const overheadRun = (extra: string[], quick: boolean) => [...extra, '--seconds', quick ? '2' : '5', '--wait-quiet', quick ? '0' : '10'];

export const SPECS: BenchSpec[] = [
  {
    id: 'agent-overhead',
    entry: 'agent-overhead.js',
    // The thread pool's and prefork's 16 s warm-up, once per variant's server and case (agent-overhead keeps a
    // case's servers for its rounds), makes their first round cost as much as three of the others': quick runs them
    // one round, prefork its default workload only (the tighter target), to keep --quick under 10 minutes. Neither
    // goes through node:http, so neither runs prom-client or otel (BLOCKING_VARIANTS).
    runs: (quick) =>
      quick
        ? [
            overheadRun(['--model', 'event-loop', '--rounds', '2'], true),
            overheadRun(['--model', 'thread-pool', '--rounds', '1', '--variants', BLOCKING_VARIANTS], true),
            overheadRun(['--model', 'prefork', '--workload', 'default', '--rounds', '1', '--variants', BLOCKING_VARIANTS], true),
            overheadRun(['--model', 'plain-app', '--workload', 'http', '--rounds', '1'], true),
          ]
        : [
            overheadRun(['--model', 'event-loop', '--rounds', '3'], false),
            overheadRun(['--model', 'thread-pool', '--rounds', '3', '--variants', BLOCKING_VARIANTS], false),
            overheadRun(['--model', 'prefork', '--rounds', '3', '--variants', BLOCKING_VARIANTS], false),
            overheadRun(['--model', 'plain-app', '--rounds', '3'], false),
          ],
    planned: ['event-loop', 'thread-pool', 'prefork'].flatMap((m) => ['hello', 'default'].map((w) => ({ name: `${m} ${w}: srvlens throughput cost`, unit: '%' }))),
    figures: (json) => overheadFigures(json as OverheadJson[]),
    quickLeavesOut: [
      { name: 'plain-app fetch: srvlens throughput cost', unit: '%', why: '--quick runs the plain app with its http client only' },
      { name: 'prefork hello: srvlens throughput cost', unit: '%', why: '--quick runs prefork with its default workload only' },
    ],
    timeoutS: 40 * 60,
  },
  {
    id: 'generator',
    entry: 'generator.js',
    runs: (quick) => [quick ? ['--rounds', '2', '--seconds', '3'] : ['--rounds', '3', '--seconds', '5']],
    planned: [
      { name: 'srvlens / autocannon req/s', unit: 'x' },
      { name: 'srvlens / wrk req/s', unit: 'x' },
      { name: 'srvlens / autocannon CPU per request', unit: 'x' },
    ],
    figures: generatorFigures,
    timeoutS: 5 * 60,
  },
  {
    id: 'kernel-tracer-cost',
    entry: 'kernel-tracer-cost.js',
    // Quick: one alternation of the toll's microbench per backend (three took ~25 s of the bench's ~2 min).
    runs: (quick) => [quick ? ['--rounds', '1', '--seconds', '3', '--toll-alternations', '1'] : ['--rounds', '3', '--seconds', '5']],
    unavailable: () => {
      if (process.getuid?.() !== 0) return 'needs root (the kernel tracer loads BPF programs)';
      if (!existsSync(LOADER) && !onPath('bpftrace')) return 'neither the libbpf tracer is built nor bpftrace installed (scripts/test-deps.sh)';
      if (!onPath('nginx', ['-v'])) return 'nginx is not installed (scripts/test-deps.sh)';
      return null;
    },
    planned: ['nginx (2 workers)', 'thread-pool (8 threads)'].flatMap((server) => [
      { name: `${server}: traced / plain req/s`, unit: 'x' },
      { name: `${server}: toll on the untraced the pair misses`, unit: '%' },
      { name: `${server}: plain beside plain req/s`, unit: 'x' },
    ]),
    figures: kernelFigures,
    timeoutS: 10 * 60,
  },
  {
    id: 'als-cost',
    entry: 'als-cost.js',
    runs: (quick) => [quick ? ['--pairs', '4', '--window', '2'] : []],
    planned: [
      { name: 'http: AsyncLocalStorage CPU per request', unit: '% more' },
      { name: 'fetch: AsyncLocalStorage CPU per request', unit: '% more' },
    ],
    figures: suiteFigures('als-cost'),
    timeoutS: 5 * 60,
  },
  {
    // Every server of both models idles at once, so a run is one warm-up and one window: ~40 s quick, ~100 s full. The
    // warm-up stays whole in the quick run: after 20 s the start still read as 2-10 ms/s per process (V8's helpers).
    id: 'agent-idle-cost',
    entry: 'agent-idle-cost.js',
    runs: (quick) => [quick ? ['--seconds', '10'] : ['--rounds', '2']],
    planned: ['event-loop', 'prefork'].flatMap((model) =>
      ['agent, export none', 'agent, OTLP'].map((variant) => ({ name: `${model}, ${variant}: agent idle CPU per process`, unit: 'ms/s' })),
    ),
    figures: suiteFigures('agent-idle-cost'),
    timeoutS: 5 * 60,
  },
  {
    id: 'dashboard-render',
    entry: 'dashboard-render.js',
    nodeArgs: ['--expose-gc'],
    runs: (quick) => [quick ? ['--renders', '40'] : []],
    planned: ['200x60: Capacity view', '200x60: Over-time view, 100 s of run', '200x60: Over-time view, 1 h of run', '80x24: Capacity view', '80x24: Over-time view, 100 s of run'].map((name) => ({
      name: `${name.replace(':', ', 9 servers:')}`,
      unit: 'ms',
    })),
    figures: suiteFigures('dashboard-render'),
    timeoutS: 5 * 60,
  },
  {
    id: 'prometheus-render',
    entry: 'prometheus-render.js',
    runs: (quick) => [quick ? ['--rounds', '7', '--ms', '20'] : []],
    planned: ['event loop', 'pool of 8', '32 contexts'].map((s) => ({ name: `${s}: library / agent writer time`, unit: 'x' })),
    figures: suiteFigures('prometheus-render'),
    timeoutS: 3 * 60,
  },
  {
    id: 'collector-ingest',
    entry: 'collector-ingest.js',
    runs: (quick) => [quick ? ['--rounds', '5', '--ms', '150'] : []],
    planned: ['JSON', 'protobuf'].map((e) => ({ name: `OTLP ${e}: data points per CPU second`, unit: '/s' })),
    figures: suiteFigures('collector-ingest'),
    timeoutS: 3 * 60,
  },
  {
    id: 'recording-rate',
    entry: 'recording-rate.js',
    runs: (quick) => [quick ? ['--rounds', '2'] : []],
    planned: ['write rate', 'read rate', 'size per server-hour', 'replay open, 9 servers x 1 h: time', 'replay open, 9 servers x 1 h: peak RSS'].map((name) => ({ name, unit: '' })),
    figures: suiteFigures('recording-rate'),
    timeoutS: 8 * 60,
  },
  {
    id: 'report-time',
    entry: 'report-time.js',
    runs: (quick) => [quick ? ['--rounds', '3'] : []],
    planned: ['report, text', 'report, html'].map((n) => ({ name: `tour, 9 servers: ${n}`, unit: 'ms' })),
    figures: suiteFigures('report-time'),
    timeoutS: 3 * 60,
  },
];
