/**
 * The report as text: the comparison and the diagnoses first (summary-text.ts), then one block per server, a row per
 * phase, units in every header. A run no load generator measured is a figure a line instead (agents-only-text.ts).
 */
import { PART_NAMES, namedWith } from '../vocabulary/index.js';
import type { Report, ReportRun } from './json-report.js';
import { agentsOnlyText, productionLines } from './agents-only-text.js';
import { checkLines } from './check-lines.js';
import { loopWaitNotes } from './loop-wait-note.js';
import { table, wrap } from './table.js';
import { hostSetting } from './host-setting.js';
import { REPORT_COLUMNS, comparisonTable, diagnosisLines } from './summary-text.js';

const f = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? null : v.toFixed(digits));

export function renderText(report: Report): string {
  const out: string[] = [];
  out.push(...wrap(`srvlens report: ${report.scenario}${report.description ? ` (${report.description.trim()})` : ''}`, REPORT_COLUMNS, '  '));
  out.push(
    `host: ${report.host.cpus} CPUs, ${report.host.cpu_model}, ${(report.host.memory_bytes / 2 ** 30).toFixed(1)} GiB, ${report.host.os}${hostSetting(report.host)}, node ${report.host.node}; interval ${report.interval_ms} ms`,
  );
  if (report.damage) out.push(`WARNING: recording damaged: ${report.damage.message}; figures cover what was read before it.`);
  else if (!report.complete) out.push('WARNING: recording has no end record (the run was interrupted); figures cover what was read.');
  // The answers first: every server in one table, then each in words; the per-phase detail below.
  if (report.comparison.length) out.push('', ...comparisonTable(report), ...diagnosisLines(report), '', 'per phase, per server:');
  for (const run of report.runs) {
    const size = Object.entries(run.size).map(([k, v]) => `${v} ${k}`).join(', ');
    out.push('', `== ${run.server}: ${run.model}${size ? `, ${size}` : ''}`, ...failureLines(run));
    if (run.detected_model) {
      out.push(`/proc names it: ${namedWith(run.detected_model)}${run.detected_model.evidence.length ? ` (${run.detected_model.evidence.slice(0, 3).join('; ')})` : ''}`);
    }
    if (run.source === 'agents-only') {
      out.push(...agentsOnlyText(run.server, run.phases), ...checkLines(run.phases));
      if (run.summary) out.push(...productionLines(run.summary));
      continue;
    }
    out.push(
      table(
        ['phase', 'offered req/s', 'achieved req/s', 'requests', 'errors', 'mean ms', 'p50 ms', 'p99 ms', 'p99 uncorr ms', 'max ms', 'gen ok'],
        run.phases.map((p) => [
          p.name,
          f(p.offered_rps, 1),
          f(p.achieved_rps, 1),
          p.requests,
          p.errors,
          f(p.latency_ms.mean),
          f(p.latency_ms.p50),
          f(p.latency_ms.p99),
          f(p.latency_ms.uncorrected_p99),
          f(p.latency_ms.max),
          p.generator_saturated ? 'NO' : 'yes',
        ]),
      ),
      // Under the phases' figures: what of them cannot be true.
      ...checkLines(run.phases),
    );
    out.push('', 'where the time goes (mean ms per request; - = not measured):');
    out.push(
      table(
        ['phase', ...PART_NAMES, 'coverage %'],
        run.phases.map((p) => [p.name, ...PART_NAMES.map((n) => f(p.parts_ms[n], 3)), f(p.coverage === null ? null : p.coverage * 100, 1)]),
      ),
    );
    out.push('', 'what the model costs:');
    out.push(
      table(
        ['phase', 'CPU ms/req', 'vol cs/req', 'invol cs/req', 'runq wait ms/req', 'loop delay p50 ms', 'p99 ms', 'max ms', 'loop util %', 'accept q max', 'backend q max'],
        run.phases.map((p) => [
          p.name,
          f(p.cpu_ms_per_request, 3),
          f(p.context_switches_per_request?.voluntary, 2),
          f(p.context_switches_per_request?.involuntary, 2),
          f(p.runqueue_wait_ms_per_request, 3),
          f(p.eventloop_delay_ms?.p50),
          f(p.eventloop_delay_ms?.p99),
          f(p.eventloop_delay_ms?.max),
          f(p.eventloop_utilization === null ? null : p.eventloop_utilization * 100, 1),
          p.accept_queue?.max ?? null,
          p.backend?.queue_max ?? null,
        ]),
      ),
    );
    const split = run.phases.filter((p) => p.request_thread_time_ms);
    if (split.length) {
      out.push('', 'a request on its thread (threads serving one request at a time; mean ms per request, from schedstat):');
      out.push(
        table(
          ['phase', 'on CPU ms', 'run queue ms', 'blocked ms', 'requests'],
          split.map((p) => [p.name, f(p.request_thread_time_ms!.on_cpu, 3), f(p.request_thread_time_ms!.runqueue, 3), f(p.request_thread_time_ms!.blocked, 3), p.request_thread_time_ms!.requests]),
        ),
      );
    }
    const mixed = run.phases.filter((p) => p.mix);
    if (mixed.length) {
      out.push('', 'the request mix (latency corrected, ms):');
      out.push(table(['phase', 'request', 'requests', 'errors', 'p50 ms', 'p99 ms'], mixed.flatMap((p) => p.mix!.map((m) => [p.name, m.name, m.requests, m.errors, f(m.p50_ms), f(m.p99_ms)]))));
    }
    for (const p of run.phases.filter((x) => x.connect_ms !== null)) out.push(`note: in phase ${p.name} each request opened its own connection: ${f(p.connect_ms, 3)} ms to connect, within send_wait.`);
    for (const p of run.phases.filter((x) => x.closed_loop)) out.push(`note: phase ${p.name} is closed loop: latency runs from each user's own send, so corrected and uncorrected are the same by construction.`);
    // A server without the agent (an external one) has only the client's view of its requests: say why the parts
    // are blank and the coverage low, rather than let them read as a server that did nothing.
    if (run.phases.some((p) => p.requests > 0) && run.phases.every((p) => p.server_requests === 0)) {
      out.push(`note: no agent in ${run.server} reported its requests: they are not split into parts (what send_wait does not cover is unmeasured); its CPU, context switches and run-queue wait, where shown, are read from /proc.`);
    }
    if (run.phases.some((p) => p.server_measured_by === 'kernel')) {
      out.push(
        `note: ${run.server} has no agent in it: its parts are from the kernel tracer (eBPF), which sees the socket, not the handler's stages: process is the handler's whole time (first read of the request to first write of the answer) less the calls it made (downstream: each call's first write to its reply read); parse and transform are not measured.`,
      );
    }
    for (const p of run.phases.filter((x) => x.requests > 0 && x.parts_ms.unmeasured === null && x.server_requests > 0)) {
      out.push(`note: in phase ${p.name} the client gave up on ${p.errors} requests: its mean is of the ${p.requests} it got, the server's parts of the ${p.server_requests} the agents served, so unmeasured and coverage are not taken.`);
    }
    out.push(...loopWaitNotes(run.phases));
    const saturated = run.phases.filter((p) => p.generator_saturated);
    for (const p of saturated) out.push(`note: in phase ${p.name} the generator could not keep its rate (${p.generator_saturation.join('; ')}): its latency figures include the generator's own delay.`);
  }
  return out.join('\n') + '\n';
}

/** A run whose server or backend died: said first, with its exit status and the end of its stderr. */
function failureLines(run: ReportRun): string[] {
  const f = run.ended?.failure;
  if (!f) return run.ended && !run.ended.ok && run.ended.error ? [`FAILED: ${run.ended.error}`] : [];
  const status = f.signal ? `killed by ${f.signal}` : `exit code ${f.exit_code}`;
  const head =
    f.who === 'server'
      ? `CRASHED: the server died during its run (${status}); the figures are of what it served before, the load stopped then.`
      : `BACKEND DIED: the backend tier died during the run (${status}); the errors after it are the backend's, not ${run.server}'s.`;
  return [head, ...(f.stderr_tail ? ['its stderr ended:', ...f.stderr_tail.split('\n').map((l) => `  | ${l}`)] : ['it wrote nothing to stderr.'])];
}
