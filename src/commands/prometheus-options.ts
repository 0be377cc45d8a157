/**
 * The options that name a service's range in Prometheus, shared by `srvlens report --prometheus` and `srvlens record
 * --prometheus`: `--service`, `--from`/`--to` or `--last`, `--step`. Times are RFC 3339 or unix seconds, durations
 * as Prometheus writes them (15s, 5m, 1h, 2d, 500ms).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../vocabulary/errors.js';
import type { PrometheusQuery } from '../collect/prometheus/read-prometheus.js';
import { isoOfUnixS } from '../collect/prometheus/query-api.js';

const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A duration in seconds: 15s, 1m30s, 1h, 500ms. */
export function durationOption(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new InvalidArgumentError(`expected a duration such as 15s, 5m or 1h, got '${text}'`);
  const s = parts.reduce((t, p) => t + Number(p[1]) * UNIT_S[p[2]], 0);
  if (!(s > 0)) throw new InvalidArgumentError(`expected a duration above 0, got '${text}'`);
  return s;
}

/** A time in unix seconds: RFC 3339 (2026-12-03T10:00:00Z) or unix seconds. */
export function timeOption(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || !/^\d{4}-\d\d-\d\d/.test(text)) throw new InvalidArgumentError(`expected an RFC 3339 time (2026-12-03T10:00:00Z) or unix seconds, got '${text}'`);
  return ms / 1000;
}

export function addPrometheusOptions(cmd: Command, prometheusHelp: string): Command {
  return cmd
    .option('--prometheus <url>', prometheusHelp)
    .option('--service <name>', "the service: its agents' service.name (SRVLENS_SERVER_NAME), or the scrape job")
    .option('--from <time>', 'start of the range: RFC 3339 or unix seconds', timeOption)
    .option('--to <time>', 'end of the range (default: now)', timeOption)
    .option('--last <duration>', 'the range is the last DURATION up to --to (default 1h), e.g. 15m, 1h', durationOption)
    .option('--step <duration>', 'one interval per step: at least the scrape interval', durationOption, 15);
}

export interface PrometheusOptions {
  prometheus?: string;
  service?: string;
  from?: number;
  to?: number;
  last?: number;
  step: number;
}

export function prometheusQuery(o: PrometheusOptions): PrometheusQuery {
  if (!o.prometheus) throw new UserError('--prometheus URL is needed (e.g. http://127.0.0.1:9090)', 'PROMETHEUS_USAGE');
  if (!o.service) throw new UserError('--service NAME is needed with --prometheus: the service.name its agents report (SRVLENS_SERVER_NAME), or its scrape job', 'PROMETHEUS_USAGE');
  if (o.from !== undefined && o.last !== undefined) throw new UserError('--from and --last both say where the range starts: give one', 'PROMETHEUS_USAGE');
  const to = o.to ?? Date.now() / 1000;
  const from = o.from ?? to - (o.last ?? 3600);
  if (from >= to) throw new UserError(`--from must be before --to (${isoOfUnixS(from)} is not before ${isoOfUnixS(to)})`, 'PROMETHEUS_USAGE');
  return { url: o.prometheus, service: o.service, from, to, stepS: o.step };
}
