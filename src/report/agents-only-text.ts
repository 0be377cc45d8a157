/**
 * The text of a run no load generator measured (a `srvlens dashboard --out` recording). It has one phase and
 * a few dozen figures, so a figure a line rather than a row a phase: it reads at 80 columns, each number with its
 * unit beside it, and each figure that is not measured says why beside its '-'.
 */
import { PART_NAMES, type PartName } from '../vocabulary/index.js';
import type { AgentsOnlyPhaseStats } from '../analysis/agents-only-phase.js';
import type { ProductionSummary } from '../analysis/production-summary.js';
import { loopWaitNotes } from './loop-wait-note.js';
import { wrap } from './table.js';

const NO_GENERATOR = 'no load generator';
/** Why the costs are '-' although requests were seen: the source (OpenTelemetry spans) says nothing of threads. */
const NO_CONTEXTS = 'not measured: spans carry no CPU (agent or attach)';

/** A figure: its name, its value (null: not measured), its unit, and what to know about it. Or a heading. */
type Line = [label: string, value: string | null, unit: string, note?: string] | string;

/** Why a part is '-' here: the client's parts need a client; the queue parts need its send time on the request. */
const UNMEASURED_PART: Record<PartName, string> = {
  send_wait: NO_GENERATOR,
  accept_queue: 'needs the client\'s send time',
  server_queue: 'needs the client\'s send time',
  parse: 'not marked',
  process: 'not measured',
  downstream: 'not marked, no outgoing calls',
  transform: 'not marked',
  send: 'not marked',
  network: NO_GENERATOR,
  unmeasured: NO_GENERATOR,
};

const f = (v: number | null | undefined, digits: number): string | null => (v === null || v === undefined ? null : v.toFixed(digits));

/** The note that heads the run: why the client's figures are '-' (wrapped for 80 columns). */
const AGENTS_ONLY_NOTE = [
  'note: no load generator: these are the server side\'s figures, as its agents',
  'measured them. What only a client measures (the offered rate, the client\'s',
  'latency and errors, send_wait, network, coverage) is - (not measured), never 0.',
];

export function agentsOnlyText(server: string, phases: readonly AgentsOnlyPhaseStats[]): string[] {
  const out = [...AGENTS_ONLY_NOTE];
  if (phases.length === 0) out.push('', `${server} reported no intervals.`);
  for (const p of phases) out.push('', ...render(phaseLines(p)), ...loopWaitNotes([p], 80));
  return out;
}

function phaseLines(p: AgentsOnlyPhaseStats): Line[] {
  const t = p.server_time_ms;
  const noRequests = p.server_requests === null ? 'no agent reported requests' : undefined;
  const cs = p.context_switches_per_request;
  const split = p.request_thread_time_ms;
  const loop = p.eventloop_delay_ms;
  // Costs are per request: '-' either for want of requests or, with requests, for want of CPU readings.
  const noCost = p.server_requests ? NO_CONTEXTS : 'no requests counted to divide by';
  const lines: Line[] = [
    `phase ${p.name}: ${f(p.duration_s, 2)} s, ${p.intervals} interval${p.intervals === 1 ? '' : 's'}`,
    ['requests', f(p.server_requests, 0), 'req', noRequests ?? 'as the agents counted them'],
    ['served', f(p.served_rps, 1), 'req/s', noRequests],
    ['offered', null, '', NO_GENERATOR],
    ['client latency', null, '', NO_GENERATOR],
    ['errors', null, '', NO_GENERATOR],
    ['server time mean', f(t?.mean, 2), 'ms', 'handler start to response end'],
    ['server time p50', f(t?.p50, 2), 'ms'],
    ['server time p90', f(t?.p90, 2), 'ms'],
    ['server time p99', f(t?.p99, 2), 'ms'],
    ['server time max', f(t?.max, 2), 'ms'],
    'where the time goes (mean per request):',
    ...PART_NAMES.map((n): Line => [n, f(p.parts_ms[n], 3), 'ms/req', p.parts_ms[n] === null ? UNMEASURED_PART[n] : undefined]),
    ['parts cover', f(p.server_time_coverage === null ? null : p.server_time_coverage * 100, 1), '%', 'of the mean server time'],
    'what the model costs:',
    ['CPU', f(p.cpu_ms_per_request, 3), 'ms/req', p.cpu_ms_per_request === null ? noCost : undefined],
    ['voluntary switches', f(cs?.voluntary, 2), '/req', cs ? undefined : noCost],
    ['involuntary switches', f(cs?.involuntary, 2), '/req'],
    ['run-queue wait', f(p.runqueue_wait_ms_per_request, 3), 'ms/req', p.runqueue_wait_ms_per_request === null ? noCost : undefined],
  ];
  // On threads serving one request at a time only (the blocking models); an event loop's requests share its thread.
  if (split) {
    lines.push(
      ['on its thread: on CPU', f(split.on_cpu, 3), 'ms/req', `${split.requests} req, from schedstat`],
      ['  in the run queue', f(split.runqueue, 3), 'ms/req'],
      ['  blocked', f(split.blocked, 3), 'ms/req'],
    );
  }
  lines.push(
    ['loop delay p50', f(loop?.p50, 2), 'ms', loop ? 'timer lateness' : 'no event loop reported'],
    ['loop delay p99', f(loop?.p99, 2), 'ms'],
    ['loop delay max', f(loop?.max, 2), 'ms'],
    ['loop utilization', f(p.eventloop_utilization === null ? null : p.eventloop_utilization * 100, 1), '%'],
    ['accept queue max', f(p.accept_queue?.max, 0), 'conn', p.accept_queue ? undefined : 'not sampled'],
    ['accept queue mean', f(p.accept_queue?.mean, 2), 'conn'],
  );
  if (p.backend) lines.push(['backend queue max', f(p.backend.queue_max, 0), 'calls']);
  return lines;
}

/** Figures in columns: name, value (right-aligned), unit, note; headings flush left, figures under them indented. */
function render(lines: readonly Line[]): string[] {
  const rows = lines.filter((l): l is Exclude<Line, string> => typeof l !== 'string');
  const label = Math.max(...rows.map((r) => r[0].length));
  const value = Math.max(...rows.map((r) => (r[1] ?? '-').length));
  const unit = Math.max(...rows.map((r) => r[2].length));
  return lines.map((l) => {
    if (typeof l === 'string') return l;
    const [name, v, u, note] = l;
    const head = `  ${name.padEnd(label)}  ${(v ?? '-').padStart(value)} ${(v === null ? '' : u).padEnd(unit)}`;
    return (note ? `${head}  ${note}` : head).trimEnd();
  });
}

/** A service read from Prometheus: its headroom in words and figures, and each instance a line. */
export function productionLines(s: ProductionSummary): string[] {
  const h = s.headroom;
  const lines: Line[] = [
    'headroom:',
    ['peak served', f(h.current_peak_rps, 1), 'req/s', h.peak_window ? `${h.peak_window.from} to ${h.peak_window.to} (${h.peak_window.seconds} s)` : undefined],
    ['capacity (knee)', f(h.capacity_rps, 1), 'req/s', h.limited_by ? `set by ${h.limited_by}` : 'not known'],
    ['peak / capacity', f(h.ratio === null ? null : h.ratio * 100, 0), '%'],
    ['headroom', f(h.headroom_x, 2), 'x', 'the capacity over the peak'],
  ];
  if (s.instances.length > 1) {
    lines.push('instances (served req/s, server time p99 ms, CPU ms/req):');
    for (const i of s.instances) lines.push([i.instance, f(i.served_rps, 1), 'req/s', `p99 ${f(i.p99_ms, 2) ?? '-'} ms, CPU ${f(i.cpu_ms_per_request, 3) ?? '-'} ms/req${i.outlier ? `: ${i.outlier}` : ''}`]);
  }
  return ['', ...render(lines), '', ...wrap(`basis: ${h.basis}`, 80), ...(s.diagnosis ? ['', ...wrap(s.diagnosis, 80)] : [])];
}
