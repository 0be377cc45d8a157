/** The overhead bench's text report: the machine, the settings, then per model and workload a table and the verdicts. */
import type { HostFacts } from '../../src/vocabulary/index.js';
import type { BenchModel } from './models.js';
import { isPlainApp, type BenchWorkload, type PlainAppWorkload } from './workloads.js';
import { INSTRUMENTED, VARIANTS, type CaseSummary, type CpuRatioSummary, type InstrumentedId, type RatioSummary } from './summary.js';

export interface BenchSettings {
  rounds: number;
  seconds: number;
  /** The variants each round ran. */
  variants: readonly string[];
  backendLatencyMs: number;
  backendLimit: number;
  agentIntervalMs: number;
  /** The plain app's upstream: its fixed answer delay and body size. */
  upstreamDelayMs: number;
  upstreamBytes: number;
  /** Before each trial, up to this many seconds of waiting for other processes to use under quietBelowPct of a core. */
  waitQuietSeconds: number;
  quietBelowPct: number;
  /** Paired trials: each server's CPU cap in cores; null when run one after another, with why where not by choice. */
  pairCores: number | null;
  pairUnavailable: string | null;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number): string => `${n.toFixed(1)} %`;

/** The plain app's clients, as the report names them. */
const PLAIN_CLIENT: Readonly<Record<PlainAppWorkload['client'], string>> = {
  http: 'node:http with a keep-alive http.Agent',
  fetch: 'the global fetch (undici)',
};

export function describeWorkload(id: string, w: BenchWorkload, s: BenchSettings): string {
  if (isPlainApp(w)) {
    return (
      `workload ${id}: one GET per request to the upstream (node:http in its own process, answering after ${s.upstreamDelayMs} ms ` +
      `with ${s.upstreamBytes} B) through ${PLAIN_CLIENT[w.client]}, then a ${w.response_bytes} B response`
    );
  }
  const backend = w.backend_calls > 0 ? `, backend calls ${w.backend_calls} (fixed ${s.backendLatencyMs} ms, limit ${s.backendLimit})` : ', no backend call';
  return `workload ${id}: parse ${w.parse_us} µs, process ${w.process_us} µs, transform ${w.transform_us} µs${backend}, response ${w.response_bytes} B`;
}

/** Below this the server had CPU to spare: the generator, not the server, set the pace. */
const SATURATED_BUSY_PCT = 90;

/** What each verdict line calls the variant it judges. */
const COST_OF: Readonly<Partial<Record<InstrumentedId, string>>> = { srvlens: 'srvlens agent cost', exemplars: 'exemplar tracing cost' };

function ratioLine(label: string, r: RatioSummary): string {
  return `  ${label.padEnd(16)} ${r.ratio.toFixed(3)}  (rounds ${r.min.toFixed(3)}..${r.max.toFixed(3)})  costs ${pct(r.costPct)} of throughput`;
}

function cpuLine(label: string, r: CpuRatioSummary | null): string {
  if (r === null) return `  ${label.padEnd(16)} server CPU per request: not measured (no /proc)`;
  return (
    `  ${label.padEnd(16)} server CPU per request x${r.ratio.toFixed(3)} (rounds ${r.min.toFixed(3)}..${r.max.toFixed(3)}): ` +
    `${r.extraPct >= 0 ? '+' : ''}${pct(r.extraPct)}, i.e. ${pct(r.throughputCostPct)} of a CPU-bound server's throughput`
  );
}

/** Other work on the machine beyond this, in % of one core, moves the figures more than the target's margin. */
export const OTHER_CPU_CAUTION_PCT = 10;

const orDash = (v: number | null, f: (n: number) => string): string => (v === null ? '-' : f(v));

export interface ReportCase {
  model: BenchModel;
  workload: string;
  params: BenchWorkload;
  summary: CaseSummary;
}

function modelLine(m: BenchModel): string {
  const size = m.size === undefined ? '' : ` (${Object.entries(m.size).map(([k, v]) => `${k} ${v}`).join(', ')})`;
  const otel = m.nodeHttp ? '' : '; it does not use node:http, so OTel\'s HttpInstrumentation sees none of its requests';
  const agent = m.agentModel === m.id ? '' : `; the agent is told SRVLENS_MODEL=${m.agentModel}`;
  return `model ${m.id}${size}: load ${m.load}, after ${m.warmupSeconds} s of warm-up${otel}${agent}`;
}

function caseLines(c: ReportCase, s: BenchSettings): string[] {
  const { summary } = c;
  const out = [describeWorkload(c.workload, c.params, s)];
  // The tier behind the server: the reference servers' backend, or the plain app's upstream.
  const downstream = isPlainApp(c.params) ? 'upstream' : 'backend';
  out.push(
    `  ${'variant'.padEnd(11)} ${'median req/s'.padStart(12)}  ${'min..max'.padStart(17)}  ${'spread'.padStart(7)}  ` +
      `${'CPU µs/req'.padStart(10)}  ${'busy'.padStart(6)}  ${downstream.padStart(8)}  req/s per round`,
  );
  const ran = VARIANTS.filter((v) => summary.variants[v].rounds.length > 0);
  for (const v of VARIANTS.filter((x) => !ran.includes(x))) out.push(`  ${v.padEnd(11)} not run (--variants)`);
  for (const v of ran) {
    const x = summary.variants[v];
    const range = `${int(x.min)}..${int(x.max)}`;
    const cpu = orDash(x.cpuUsPerRequest, (n) => n.toFixed(1));
    const busy = orDash(x.serverBusyPct, (n) => `${n.toFixed(0)} %`);
    const behind = orDash(x.downstreamBusyPct, (n) => `${n.toFixed(0)} %`);
    out.push(
      `  ${v.padEnd(11)} ${int(x.median).padStart(12)}  ${range.padStart(17)}  ${pct(x.spreadPct).padStart(7)}  ` +
        `${cpu.padStart(10)}  ${busy.padStart(6)}  ${behind.padStart(8)}  ${x.rounds.map(int).join(' ')}`,
    );
  }
  if (summary.twins !== null) out.push(`${ratioLine('none/none', summary.twins)}: two servers without an agent side by side, the pairs' noise`);
  for (const v of INSTRUMENTED.filter((x) => ran.includes(x))) {
    out.push(ratioLine(`${v}/none`, summary.ratios[v]));
    out.push(cpuLine('', summary.cpuRatios[v]));
  }
  let tightest = Infinity;
  for (const v of INSTRUMENTED) {
    const verdict = summary.verdicts[v];
    if (verdict === undefined || !ran.includes(v)) continue;
    tightest = Math.min(tightest, verdict.targetCostPct);
    out.push(
      `  ${COST_OF[v] ?? v}: ${pct(verdict.costPct)} of throughput (target: at most ${verdict.targetCostPct} %) -> ${verdict.met ? 'met' : 'MISSED'}`,
    );
  }
  // Paired, the noise is what twins read apart; unpaired, the baseline's spread over rounds.
  const noise = summary.twins === null ? summary.variants.none.spreadPct : (summary.twins.max - summary.twins.min) * 100;
  if (noise > tightest) {
    out.push(
      `  caution: the baseline's own spread (${pct(noise)}) exceeds the tightest target's margin: the throughput verdicts are within noise; ` +
        'more rounds (--rounds) narrow the median, and the CPU-per-request lines are the steadier estimate',
    );
  }
  const busy = summary.variants.none.serverBusyPct;
  // Paired, each server is capped below a core by design; whether it used its cap is a check of its own.
  if (busy !== null && busy < SATURATED_BUSY_PCT && s.pairCores === null) {
    out.push(`  caution: the baseline server was busy ${busy.toFixed(0)} % of the time: the generator set the pace, which hides part of any overhead in req/s`);
  }
  // One thread serves the upstream (and the backend): near a whole core it, not the server, would set the pace.
  const behind = Math.max(...VARIANTS.map((v) => summary.variants[v].downstreamBusyPct ?? 0));
  if (behind >= SATURATED_BUSY_PCT) {
    out.push(`  caution: the ${downstream} was busy up to ${behind.toFixed(0)} % of a core: it may have set the pace, not the server`);
  }
  const { maxOtherCpuPct, maxStealPct } = summary.interference;
  if (maxOtherCpuPct !== null && maxStealPct !== null) {
    const busyElsewhere = maxOtherCpuPct > OTHER_CPU_CAUTION_PCT || maxStealPct > OTHER_CPU_CAUTION_PCT;
    out.push(
      `  ${busyElsewhere ? 'caution: ' : ''}other processes took up to ${pct(maxOtherCpuPct)} of a core during a trial, ` +
        `the hypervisor stole up to ${pct(maxStealPct)}${busyElsewhere ? ': the machine was not quiet, rerun when it is' : ''}`,
    );
  }
  for (const line of summary.checks) out.push(`  check ${line}`);
  return out;
}

export function formatText(host: HostFacts, s: BenchSettings, cases: ReportCase[]): string {
  const out: string[] = [];
  out.push(`srvlens agent overhead: servers at saturation, ${s.variants.length} ways`);
  out.push(`machine: ${host.cpu_model}${host.cpu_speed_ghz ? ` @ ${host.cpu_speed_ghz} GHz` : ''}, ${host.cpus} cores, Node ${host.node}, ${host.os} (kernel ${host.kernel})`);
  out.push(
    `load: autocannon on 127.0.0.1, keep-alive, a warm-up (per model, below) + ${s.seconds} s measured per trial, ` +
      `${s.rounds} rounds of [${s.variants.join(', ')}] in rotating order` +
      (s.waitQuietSeconds > 0 ? `; each trial first waited (up to ${s.waitQuietSeconds} s) for other processes to use under ${s.quietBelowPct} % of a core` : ''),
  );
  out.push(
    s.pairCores !== null
      ? `pairs: each trial's server ran beside one without an agent (none beside none for none), both held to ${s.pairCores} of a core ` +
          '(cpu cgroups, weighted above all else) in the same seconds; a ratio is the server against the one beside it, which ' +
          'cancels what else the machine did; the agent\'s per-second work weighs ' +
          `${(1 / s.pairCores).toFixed(1)}x more in ${s.pairCores} of a core than in a whole one, so the figures err on the side of cost`
      : `pairs: not run (${s.pairUnavailable ?? '--pair off'}): each variant's trial ran alone, against its round's none`,
  );
  out.push(
    `note: the generator runs in the bench process and shares the ${host.cpus} cores with the server and the backend or upstream; ` +
      'read the ratios, not the req/s',
  );
  out.push(
    'variants: none = no preload; srvlens = --import the srvlens agent, exporting every ' +
      `${s.agentIntervalMs} ms to a srvlens collector in the bench process; exemplars = srvlens with SRVLENS_EXEMPLARS=1, which also ` +
      'exports a few requests per thread and interval as OTel spans to the collector\'s /v1/traces; ' +
      'prom-client = prom-client with one request-duration histogram labelled by method, route and status code, observed on each response\'s finish (the anchor); ' +
      'otel = NodeSDK + HttpInstrumentation + BatchSpanProcessor, spans counted and dropped; busy = the server\'s CPU seconds ' +
      'per second, backend/upstream = the same for the process behind it',
  );
  let model = '';
  for (const c of cases) {
    out.push('');
    if (c.model.id !== model) {
      model = c.model.id;
      out.push(modelLine(c.model));
    }
    out.push(...caseLines(c, s));
  }
  return out.join('\n') + '\n';
}
