/** The overhead bench's text report: the machine, the settings, then per workload a table and the verdict. */
import type { HostFacts } from '../src/model/index.js';
import type { WorkloadParams } from '../src/servers/workload.js';
import { VARIANTS, type CpuRatioSummary, type RatioSummary, type WorkloadSummary } from './overhead-summary.js';

export interface BenchSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  backendLatencyMs: number;
  backendLimit: number;
  agentIntervalMs: number;
  /** Before each trial, up to this many seconds of waiting for other processes to use under quietBelowPct of a core. */
  waitQuietSeconds: number;
  quietBelowPct: number;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number): string => `${n.toFixed(1)} %`;

export function describeWorkload(id: string, w: WorkloadParams, s: BenchSettings): string {
  const backend = w.backend_calls > 0 ? `, backend calls ${w.backend_calls} (fixed ${s.backendLatencyMs} ms, limit ${s.backendLimit})` : ', no backend call';
  return `workload ${id}: parse ${w.parse_us} µs, process ${w.process_us} µs, transform ${w.transform_us} µs${backend}, response ${w.response_bytes} B`;
}

/** Below this the server had CPU to spare: the generator, not the server, set the pace. */
const SATURATED_BUSY_PCT = 90;

function ratioLine(label: string, r: RatioSummary): string {
  return `  ${label.padEnd(13)} ${r.ratio.toFixed(3)}  (rounds ${r.min.toFixed(3)}..${r.max.toFixed(3)})  costs ${pct(r.costPct)} of throughput`;
}

function cpuLine(label: string, r: CpuRatioSummary | null): string {
  if (r === null) return `  ${label.padEnd(13)} server CPU per request: not measured (no /proc)`;
  return (
    `  ${label.padEnd(13)} server CPU per request x${r.ratio.toFixed(3)} (rounds ${r.min.toFixed(3)}..${r.max.toFixed(3)}): ` +
    `${r.extraPct >= 0 ? '+' : ''}${pct(r.extraPct)}, i.e. ${pct(r.throughputCostPct)} of a CPU-bound server's throughput`
  );
}

/** Other work on the machine beyond this, in % of one core, moves the figures more than the target's margin. */
const OTHER_CPU_CAUTION_PCT = 10;

const orDash = (v: number | null, f: (n: number) => string): string => (v === null ? '-' : f(v));

export function formatText(host: HostFacts, s: BenchSettings, workloads: { id: string; params: WorkloadParams; summary: WorkloadSummary }[]): string {
  const out: string[] = [];
  out.push('srvlens agent overhead: the event-loop reference server at saturation, three ways');
  out.push(`machine: ${host.cpu_model}${host.cpu_speed_ghz ? ` @ ${host.cpu_speed_ghz} GHz` : ''}, ${host.cpus} cores, Node ${host.node}, ${host.os} (kernel ${host.kernel})`);
  out.push(
    `load: autocannon, ${s.connections} connections on 127.0.0.1, ${s.warmupSeconds} s warm-up + ${s.seconds} s measured per trial, ` +
      `${s.rounds} rounds of [none, srvlens, otel] in rotating order` +
      (s.waitQuietSeconds > 0 ? `; each trial first waited (up to ${s.waitQuietSeconds} s) for other processes to use under ${s.quietBelowPct} % of a core` : ''),
  );
  out.push(`note: the generator runs in the bench process and shares the ${host.cpus} cores with the server and the backend; read the ratios, not the req/s`);
  out.push('variants: none = no preload; srvlens = --import the srvlens agent, exporting every ' +
    `${s.agentIntervalMs} ms to a srvlens collector in the bench process; otel = NodeSDK + HttpInstrumentation + BatchSpanProcessor, spans counted and dropped`);
  for (const { id, params, summary } of workloads) {
    out.push('');
    out.push(describeWorkload(id, params, s));
    out.push(
      `  ${'variant'.padEnd(9)} ${'median req/s'.padStart(12)}  ${'min..max'.padStart(17)}  ${'spread'.padStart(7)}  ` +
        `${'CPU µs/req'.padStart(10)}  ${'busy'.padStart(6)}  req/s per round`,
    );
    for (const v of VARIANTS) {
      const x = summary.variants[v];
      const range = `${int(x.min)}..${int(x.max)}`;
      const cpu = orDash(x.cpuUsPerRequest, (n) => n.toFixed(1));
      const busy = orDash(x.serverBusyPct, (n) => `${n.toFixed(0)} %`);
      out.push(
        `  ${v.padEnd(9)} ${int(x.median).padStart(12)}  ${range.padStart(17)}  ${pct(x.spreadPct).padStart(7)}  ` +
          `${cpu.padStart(10)}  ${busy.padStart(6)}  ${x.rounds.map(int).join(' ')}`,
      );
    }
    out.push(ratioLine('srvlens/none', summary.srvlens));
    out.push(cpuLine('', summary.srvlensCpu));
    out.push(ratioLine('otel/none', summary.otel));
    out.push(cpuLine('', summary.otelCpu));
    const verdict = summary.met ? 'met' : 'MISSED';
    out.push(`  srvlens agent cost: ${pct(summary.srvlens.costPct)} of throughput (target: at most ${summary.targetCostPct} %) -> ${verdict}`);
    const noise = summary.variants.none.spreadPct;
    if (noise > summary.targetCostPct) {
      out.push(
        `  caution: the baseline's own spread (${pct(noise)}) exceeds the target's margin: the throughput verdict is within noise; ` +
          'more rounds (--rounds) narrow the median, and the CPU-per-request line is the steadier estimate',
      );
    }
    const busy = summary.variants.none.serverBusyPct;
    if (busy !== null && busy < SATURATED_BUSY_PCT) {
      out.push(`  caution: the baseline server was busy ${busy.toFixed(0)} % of the time: the generator set the pace, which hides part of any overhead in req/s`);
    }
    const { maxOtherCpuPct, maxStealPct } = summary.interference;
    if (maxOtherCpuPct !== null && maxStealPct !== null) {
      const busyElsewhere = maxOtherCpuPct > OTHER_CPU_CAUTION_PCT || maxStealPct > OTHER_CPU_CAUTION_PCT;
      out.push(
        `  ${busyElsewhere ? 'caution: ' : ''}other processes took up to ${pct(maxOtherCpuPct)} of a core during a trial, ` +
          `the hypervisor stole up to ${pct(maxStealPct)}${busyElsewhere ? ': the machine was not quiet, rerun when it is' : ''}`,
      );
    }
    for (const c of summary.checks) out.push(`  check ${c}`);
  }
  return out.join('\n') + '\n';
}
