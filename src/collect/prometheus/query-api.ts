/**
 * Prometheus's HTTP query API (/api/v1), as srvlens reads it: series that match a selector in a range, and a range
 * query's matrix. Anything that speaks the API (Thanos, Mimir, VictoriaMetrics) answers the same. Every failure is
 * the user's to fix (a wrong URL, a server down, a query it refuses) and says which, with the URL.
 */
import { UserError } from '../../vocabulary/errors.js';

export type Labels = Record<string, string>;

/** A time of the API (unix seconds) as people read it. */
export const isoOfUnixS = (s: number): string => new Date(s * 1000).toISOString();
/** One series of a range query: its labels and its [unix seconds, value] samples, oldest first. */
export interface RangeSeries {
  metric: Labels;
  values: [number, number][];
}

/** A query over the whole range may be large; a Prometheus that takes longer is not one to wait on. */
const TIMEOUT_MS = 30_000;

export class PrometheusApi {
  readonly base: string;

  constructor(url: string) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UserError(`--prometheus: '${url}' is not a URL (e.g. http://127.0.0.1:9090)`, 'PROMETHEUS_USAGE');
    }
    this.base = parsed.href.replace(/\/+$/, '');
  }

  private async get<T>(path: string, params: Record<string, string | string[]>): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) query.append(k, one);
    const url = `${this.base}/api/v1/${path}`;
    let res: Response;
    try {
      // POST with a form body, as Grafana does: a long selector does not fit a URL.
      res = await fetch(url, { method: 'POST', body: query, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      throw new UserError(`cannot reach Prometheus at ${this.base} (${cause}): is it running, and is that its address?`, 'PROMETHEUS_UNREACHABLE');
    }
    const text = await res.text();
    let body: { status?: string; data?: T; error?: string; errorType?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new UserError(`${url} answered ${res.status} with something that is not the Prometheus API's JSON: is ${this.base} a Prometheus?`, 'PROMETHEUS_UNREACHABLE');
    }
    if (body.status !== 'success' || body.data === undefined) {
      throw new UserError(`Prometheus at ${this.base} refused ${path}: ${body.errorType ?? res.status}: ${body.error ?? text.slice(0, 200)}`, 'PROMETHEUS_QUERY');
    }
    return body.data;
  }

  /** The label sets of the series matching any selector between start and end (unix seconds). */
  series(match: string[], start: number, end: number): Promise<Labels[]> {
    return this.get<Labels[]>('series', { 'match[]': match, start: String(start), end: String(end) });
  }

  /** A range query evaluated every step seconds from start to end (unix seconds). */
  async queryRange(expr: string, start: number, end: number, stepS: number): Promise<RangeSeries[]> {
    const data = await this.get<{ resultType: string; result: { metric: Labels; values: [number, string][] }[] }>('query_range', {
      query: expr,
      start: String(start),
      end: String(end),
      step: String(stepS),
    });
    return data.result.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
  }
}
