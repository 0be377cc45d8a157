/**
 * Which scrape targets are a service's: the `target_info` series the agent serves carry its resource attributes
 * (service.name, process.pid, the model, the cores it may use), joined to its metrics on job and instance. Where the
 * series are not there, the error says what is: no agent scraped at all, other services, or a job of that name.
 */
import { UserError } from '../../vocabulary/errors.js';
import { FAMILY, LABEL } from './families.js';
import { isoOfUnixS, type Labels, type PrometheusApi } from './query-api.js';

export interface ServiceTarget {
  job: string;
  instance: string;
  /** The agent's process; 0 where only the job named the service (no target_info). */
  pid: number;
  model: string;
  role: string;
  /** The cores the process may use and what set that, as the agent read them; null from agents that did not say. */
  cpuLimit: number | null;
  cpuLimitSource: string | null;
}

const quote = (v: string) => JSON.stringify(v);
const when = (start: number, end: number) => `between ${isoOfUnixS(start)} and ${isoOfUnixS(end)}`;

function targetsOf(list: Labels[], byJob: boolean): ServiceTarget[] {
  const out = new Map<string, ServiceTarget>();
  for (const l of list) {
    const key = `${l.job}\u0000${l.instance}`;
    const pid = Number(l[LABEL.pid] ?? 0);
    const seen = out.get(key);
    // A restarted process is a new target_info series of the same instance: keep the newest pid.
    if (seen && seen.pid >= pid) continue;
    const limit = l[LABEL.cpuLimit] === undefined ? null : Number(l[LABEL.cpuLimit]);
    out.set(key, {
      job: l.job ?? '',
      instance: l.instance ?? '',
      pid: byJob ? 0 : pid,
      model: l[LABEL.model] ?? 'unknown',
      role: l[LABEL.role] ?? 'server',
      cpuLimit: limit !== null && Number.isFinite(limit) && limit > 0 ? limit : null,
      cpuLimitSource: l[LABEL.cpuLimitSource] ?? null,
    });
  }
  return [...out.values()].sort((a, b) => a.job.localeCompare(b.job) || a.instance.localeCompare(b.instance));
}

export async function serviceTargets(api: PrometheusApi, service: string, start: number, end: number): Promise<ServiceTarget[]> {
  const info = await api.series([`${FAMILY.targetInfo}{${LABEL.service}=${quote(service)}}`], start, end);
  if (info.length) return targetsOf(info, false);
  // A job of that name with the agent's series (target_info dropped by a relabelling, or the name is the job's).
  const byJob = await api.series([`${FAMILY.requests}{job=${quote(service)}}`], start, end);
  if (byJob.length) return targetsOf(byJob, true);

  const range = when(start, end);
  const agents = await api.series([FAMILY.requests], start, end);
  if (agents.length === 0) {
    const up = await api.series(['up'], start, end);
    const jobs = [...new Set(up.map((l) => l.job))].sort();
    throw new UserError(
      jobs.length
        ? `no srvlens agent's series in Prometheus at ${api.base} ${range}: it scrapes ${jobs.map(quote).join(', ')}, none of them an agent's endpoint. ` +
            'Start the app with SRVLENS_PROMETHEUS_PORT=9464 and add that port to scrape_configs (deploy/prometheus/prometheus.yml)'
        : `Prometheus at ${api.base} has no series at all ${range}: is the range right (--from/--to, --last), and is it scraping?`,
      'PROMETHEUS_NO_DATA',
    );
  }
  const services = await api.series([FAMILY.targetInfo], start, end);
  const names = [...new Set(services.map((l) => l[LABEL.service]).filter(Boolean))].sort();
  const jobs = [...new Set(agents.map((l) => l.job))].sort();
  throw new UserError(
    `no service ${quote(service)} in Prometheus at ${api.base} ${range}: ` +
      (names.length ? `the agents there are services ${names.map(quote).join(', ')}` : 'no agent there serves target_info') +
      ` (jobs ${jobs.map(quote).join(', ')}). --service takes the service.name (SRVLENS_SERVER_NAME) or the job; a relabelled job keeps the service.name`,
    'PROMETHEUS_NO_DATA',
  );
}
