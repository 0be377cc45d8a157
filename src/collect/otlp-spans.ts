/**
 * Any OpenTelemetry source: server spans become requests, mapped onto the parts of the time decomposition.
 *
 * - A SERVER span (kind 2) is one request; its duration runs from handler start to response end.
 * - CLIENT spans (kind 3) and spans with a `db.system` attribute under it are `downstream` (overlapping calls
 *   counted once: the union of their intervals).
 * - A span with the attribute `srvlens.stage` (parse, process, downstream, transform, send) is that stage.
 * - The rest of the server span is `process`: the handler's own code, as the agent counts an unmarked handler.
 * The queue parts need the client's send time, which plain OTel apps do not read, so they stay unmeasured.
 * Spans marked `srvlens.exemplar` are a srvlens agent's exemplars of requests it already counted: they are kept
 * as exemplars, never counted again.
 * Children end before their parent and are exported first (BatchSpanProcessor exports ended spans), so their
 * times wait, bounded, under the parent's id until the parent arrives.
 * A service whose spans keep coming without a single SERVER span has requests nobody sees: that is said once, with
 * what arrived (`notice`), rather than shown as a service that served nothing.
 */
import { MAX_ITEMS_PER_EXPORT, OtlpRejected, otlpMessages, otlpNumber } from './otlp-limits.js';
import { ATTR, STAGES, epochToMonoMs, ExpHistogram, type Exemplar, type StageName } from '../vocabulary/index.js';
import { emptyContext, type AgentInterval } from './otlp-json.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const STAGE_ATTRIBUTE = 'srvlens.stage';
/** The client's send time (the x-srvlens-send-us header, µs on the host's monotonic clock), if the app records it. */
export const SEND_ATTRIBUTE = 'srvlens.send_us';
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
/** Children whose parent has not come within this long are dropped (and the bound keeps memory flat). */
const CHILD_TTL_MS = 30_000;
const MAX_PENDING_PARENTS = 100_000;
/** Batches of spans, none of them SERVER, after which a service is said to send no requests (a parent can come a batch late). */
const BATCHES_BEFORE_NOTICE = 2;

const KIND_NAMES: Record<number, string> = { 1: 'internal', 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };

/** What one service sent so far, by span kind, and whether it was told about. */
interface ServiceSpans {
  pid: number;
  batches: number;
  kinds: Map<string, number>;
  noticed: boolean;
}

interface ChildTimes {
  seen: number;
  downstream: [number, number][];
  stages: Partial<Record<StageName, number>>;
}

const num = (v: unknown): number => otlpNumber(v);

function attrMap(list: Json[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of otlpMessages(list, 'attributes')) {
    const v = kv?.value ?? {};
    const value = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue ?? v.boolValue);
    // own keys only: a key "__proto__" must not reach the prototype
    if (typeof kv?.key === 'string') Object.defineProperty(out, kv.key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Total length of the union of [start, end] intervals, ms. */
function unionMs(list: [number, number][]): number {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [s, e] = sorted[0] ?? [0, 0];
  for (const [a, b] of sorted.slice(1)) {
    if (a > e) {
      total += e - s;
      [s, e] = [a, b];
    } else e = Math.max(e, b);
  }
  return total + (e - s);
}

export class SpanMapper {
  private readonly pending = new Map<string, ChildTimes>();
  /** Spans that could not be used (a child whose parent never came), counted, never silent. */
  dropped = 0;
  private readonly services = new Map<string, ServiceSpans>();

  /** `notice`: told once per service whose spans hold no SERVER span, with what they held and why that may be. */
  constructor(
    private readonly intervalMs: number,
    private readonly notice: (message: string) => void = () => undefined,
  ) {}

  ingest(body: Json): AgentInterval[] {
    const now = Date.now();
    const out = new Map<string, { a: AgentInterval; duration: ExpHistogram }>();
    let items = 0;
    for (const rs of otlpMessages(body?.resourceSpans, 'resourceSpans')) {
      const res = attrMap(rs.resource?.attributes);
      const pid = num(res[ATTR.processPid]);
      const service = String(res[ATTR.serviceName] ?? 'otel');
      const spans = otlpMessages(rs?.scopeSpans, 'scopeSpans').flatMap((ss) => otlpMessages(ss?.spans, 'spans'));
      items += spans.length;
      if (items > MAX_ITEMS_PER_EXPORT) throw new OtlpRejected(413, `more than ${MAX_ITEMS_PER_EXPORT} spans in one export: send them in several`);
      this.tally(service, pid, spans);
      // Children first, so a parent in the same batch finds them.
      for (const s of spans) if (num(s.kind) !== SPAN_KIND_SERVER) this.noteChild(s, now);
      for (const s of spans) {
        if (num(s.kind) !== SPAN_KIND_SERVER) continue;
        const a = attrMap(s.attributes);
        if (a[ATTR.exemplar] !== undefined) this.addExemplar(s, a, pid, service, out);
        else this.addRequest(s, pid, service, out);
      }
    }
    this.expire(now);
    return [...out.values()].map(({ a, duration }) => {
      // An interval with exemplars only carries no request data of its own.
      if (a.contexts[0].requests === 0) a.contexts = [];
      else a.contexts[0].duration = duration.toData();
      return a;
    });
  }

  private tally(service: string, pid: number, spans: readonly Json[]): void {
    if (spans.length === 0) return;
    let t = this.services.get(service);
    if (!t) {
      t = { pid, batches: 0, kinds: new Map(), noticed: false };
      this.services.set(service, t);
    }
    t.batches++;
    for (const s of spans) {
      const kind = KIND_NAMES[num(s.kind)] ?? 'unspecified';
      t.kinds.set(kind, (t.kinds.get(kind) ?? 0) + 1);
    }
    if (t.noticed || t.kinds.has('server') || t.batches < BATCHES_BEFORE_NOTICE) return;
    t.noticed = true;
    const total = [...t.kinds.values()].reduce((a, b) => a + b, 0);
    const kinds = [...t.kinds].map(([k, n]) => `${n} ${k}`).join(', ');
    this.notice(
      `service ${service} (PID ${t.pid}) sent ${total} spans (${kinds}) and no server span: srvlens counts a request by its ` +
        `server span, so this service shows no requests. An ES module app's node:http is not patched by an SDK that hooks ` +
        `require() only: run it with node --experimental-loader=@opentelemetry/instrumentation/hook.mjs, or under ` +
        `node --import srvlens/agent.`,
    );
  }

  private noteChild(s: Json, now: number): void {
    const parent = String(s.parentSpanId ?? '');
    if (!parent) return;
    const a = attrMap(s.attributes);
    const start = num(s.startTimeUnixNano) / 1e6;
    const end = num(s.endTimeUnixNano) / 1e6;
    let c = this.pending.get(parent);
    if (!c) {
      if (this.pending.size >= MAX_PENDING_PARENTS) {
        this.dropped++;
        return;
      }
      c = { seen: now, downstream: [], stages: {} };
      this.pending.set(parent, c);
    }
    const stage = a[STAGE_ATTRIBUTE] as StageName | undefined;
    if (stage && (STAGES as readonly string[]).includes(stage)) c.stages[stage] = (c.stages[stage] ?? 0) + (end - start);
    else if (num(s.kind) === SPAN_KIND_CLIENT || a['db.system'] !== undefined || a['db.system.name'] !== undefined) c.downstream.push([start, end]);
  }

  private entry(pid: number, service: string, endMs: number, out: Map<string, { a: AgentInterval; duration: ExpHistogram }>) {
    const index = Math.floor(epochToMonoMs(endMs) / this.intervalMs);
    const key = `${pid}:${service}:${index}`;
    let entry = out.get(key);
    if (!entry) {
      entry = { a: interval(pid, service, index), duration: new ExpHistogram() };
      out.set(key, entry);
    }
    return entry;
  }

  private addExemplar(s: Json, a: Record<string, unknown>, pid: number, service: string, out: Map<string, { a: AgentInterval; duration: ExpHistogram }>): void {
    const entry = this.entry(pid, service, num(s.endTimeUnixNano) / 1e6, out);
    const parts: Exemplar['parts_ms'] = {};
    for (const stage of STAGES) {
      const v = a[`srvlens.part.${stage}_ms`];
      if (v !== undefined) parts[stage] = num(v);
    }
    (entry.a.exemplars ??= []).push({
      kind: a[ATTR.exemplar] === 'slowest' ? 'slowest' : 'sample',
      trace_id: String(s.traceId ?? ''),
      span_id: String(s.spanId ?? ''),
      parent_span_id: s.parentSpanId ? String(s.parentSpanId) : null,
      pid,
      tid: a[ATTR.threadId] !== undefined ? num(a[ATTR.threadId]) : null,
      duration_ms: num(a[ATTR.durationMs]),
      parts_ms: parts,
    });
  }

  private addRequest(s: Json, pid: number, service: string, out: Map<string, { a: AgentInterval; duration: ExpHistogram }>): void {
    const start = num(s.startTimeUnixNano) / 1e6;
    const end = num(s.endTimeUnixNano) / 1e6;
    const entry = this.entry(pid, service, end, out);
    const c = entry.a.contexts[0];
    const children = this.pending.get(String(s.spanId ?? ''));
    this.pending.delete(String(s.spanId ?? ''));
    const total = Math.max(0, end - start);
    let marked = 0;
    for (const [stage, ms] of Object.entries(children?.stages ?? {}) as [StageName, number][]) {
      c.stage_ms[stage] += ms;
      c.stage_entries[stage]++;
      marked += ms;
    }
    if (children?.downstream.length) {
      const d = unionMs(children.downstream);
      c.stage_ms.downstream += d;
      c.stage_entries.downstream++;
      marked += d;
    }
    c.stage_ms.process += Math.max(0, total - marked);
    c.stage_entries.process++;
    c.requests++;
    // With the client's send time the wait before the handler is measured too (same host, same clock).
    const sentMs = num(attrMap(s.attributes)[SEND_ATTRIBUTE]) / 1000;
    const startMono = epochToMonoMs(start);
    if (sentMs > 0 && sentMs <= startMono && startMono - sentMs < 120_000) {
      c.joined++;
      c.stage_ms.server_queue += startMono - sentMs;
      c.stage_entries.server_queue++;
    }
    entry.duration.record(total / 1000);
  }

  private expire(now: number): void {
    for (const [id, c] of this.pending) {
      if (now - c.seen > CHILD_TTL_MS) {
        this.pending.delete(id);
        this.dropped++;
      }
    }
  }
}

function interval(pid: number, service: string, index: number): AgentInterval {
  const context = { ...emptyContext(0, 'spans', 'spans'), threads: 0 };
  return { pid, service, model: 'unknown', role: 'otel', index, contexts: [context], process: context, rss_bytes: null, dropped: 0, agent_errors: 0 };
}
