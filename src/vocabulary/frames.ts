/**
 * The timeline: one data shape for live view, recording, replay and analysis (ARCHITECTURE section 3).
 * A recording is a header, then for each server run a run-start, its frames (one per interval) and a run-end.
 * Every scalar time is ms, a float, and says so in its name (_ms). Histograms keep their own unit, given in the field's
 * comment: HDR in integer µs (HDR records integers), OpenTelemetry exponential histograms in seconds (as OTLP sends them;
 * rescaling would re-bucket them).
 */
import type { ExpHistogramData } from './exp-histogram.js';
import type { StageName } from './parts.js';
import type { ModelSeen } from './model-ids.js';

/**
 * /5: frames as /3; a frame's member also carries a CRC32 of its compressed bytes (src/recording/format.ts "SC"), so
 * replay's index checks each member without inflating it. /4 files are read as they are, and checked by inflating.
 * /4: frames as /3; each frame's gzip member also carries a summary for indexes (src/recording/format.ts), so replay
 * opens a long recording without parsing its frames. /3 files are read as they are, and indexed by parsing them.
 * /3: every scalar time in a frame is ms (/1 and /2 had the stage, split, generator and backend sums in µs), and the
 * context switches are `voluntary` / `involuntary` (/1 and /2: `ctx_voluntary` / `ctx_involuntary`); the reader
 * upgrades older frames as it decodes them (src/recording/upgrade-frame.ts).
 * /2: a server without an agent in it is recorded from /proc per thread (role `thread`, key pid/tid), as `srvlens
 * attach` shows it; /1 recorded one context per process (role `proc`, key pid). Contexts are read alike (summed,
 * listed), so a reader of /2 reads /1 as it is.
 */
export const RECORDING_SCHEMA = 'srvlens.recording/5';
/** The schemas this srvlens reads. */
export const READABLE_RECORDING_SCHEMAS: readonly string[] = ['srvlens.recording/1', 'srvlens.recording/2', 'srvlens.recording/3', 'srvlens.recording/4', RECORDING_SCHEMA];
export const REPORT_SCHEMA = 'srvlens.report/2';

export interface HostFacts {
  cpus: number;
  /** The CPU quota of srvlens's cgroup in cores, null when none is set; absent in recordings made before it was read. */
  cpu_quota_cores?: number | null;
  cpu_model: string;
  cpu_speed_ghz: number | null;
  memory_bytes: number;
  os: string;
  kernel: string;
  hostname: string;
  node: string;
  /**
   * What the figures ran on beyond its CPUs (absent in recordings made before they were read): the hypervisor of a
   * virtual machine ('KVM', 'VMware'...; 'unknown' when one is seen but not named; null on bare metal), whether
   * srvlens ran in a container, and the CPU frequency governor (null where the kernel exposes none, as in most VMs).
   * A VM's steal time and a governor other than `performance` both move latency figures.
   */
  virtual?: string | null;
  container?: boolean;
  cpu_governor?: string | null;
}

export interface RecordingHeader {
  kind: 'header';
  /** RECORDING_SCHEMA when written; one of READABLE_RECORDING_SCHEMAS when read. */
  schema: string;
  tool: { name: 'srvlens'; version: string };
  created: string;
  scenario: { name: string; file: string | null; description: string; config: unknown };
  host: HostFacts;
  interval_ms: number;
}

export interface RunStart {
  kind: 'run-start';
  run: number;
  server: string;
  model: string;
  /** The model's size as configured: threads, processes, connections limits. */
  size: Record<string, number>;
  /** The CPUs the server was pinned to (its first N), where the scenario said; absent: every CPU. */
  cores?: number;
  workload: Record<string, unknown>;
  t_ms: number;
  /**
   * Runs read from Prometheus: the service they are of, and for one instance's run its `instance` label (absent on
   * the fleet's run, which joins every instance).
   */
  service?: string;
  instance?: string;
}

/**
 * A process of a run that died before the run was over: the server under test, or the backend tier behind it
 * (whose death makes every request after it fail: those errors are the backend's, not the server's).
 */
export interface RunFailure {
  who: 'server' | 'backend';
  /** Its exit code, or null when a signal ended it. */
  exit_code: number | null;
  signal: string | null;
  /** The last lines it wrote to stderr ("" when none). */
  stderr_tail: string;
  /** When it was seen gone, monotonic ms. */
  t_ms: number;
}

export interface RunEnd {
  kind: 'run-end';
  run: number;
  t_ms: number;
  ok: boolean;
  error: string | null;
  /** Set when the run ended because its server or its backend died; the scenario went on with the next server. */
  failure?: RunFailure | null;
  /** The model the /proc agent named from the server's processes and threads during the run, how sure, and why. */
  detected?: ModelSeen | null;
}

export interface RecordingEnd {
  kind: 'end';
  t_ms: number;
  ok: boolean;
}

/**
 * The generator's name for the intervals after the last phase, while it waits for requests still in flight.
 * Their completions belong to the last phase; their time does not (nothing was offered).
 */
export const DRAIN_PHASE = 'drain';

/** One entry of a request mix in one interval. */
export interface MixInterval {
  name: string;
  sent: number;
  completed: number;
  errors: number;
  /** Latency of this entry's completed requests, as latency_hdr (µs, HDR, compressed base64). */
  latency_hdr: string;
}

/**
 * What the load generator saw in one interval: the one type both ends of the generator's process boundary use.
 * Requests are counted in the interval of their completion. The optional fields are present only where they apply,
 * so a recording of a plain open-loop run holds none of them.
 */
export interface GeneratorInterval {
  phase: string;
  phase_index: number;
  /** The rate the phase asked for during this interval, req/s. */
  target_rps: number;
  /** Requests whose intended send time fell in this interval. */
  due: number;
  sent: number;
  completed: number;
  errors: number;
  /** Latency from the intended send time (coordinated omission corrected), µs, HDR histogram, compressed base64. */
  latency_hdr: string;
  /** Latency from the actual send time (what a naive tool reports), µs, HDR, compressed base64. */
  uncorrected_hdr: string;
  /** Sums over completed requests, ms: intended send to response (total), intended to actual send, actual send to response. */
  sum_total_ms: number;
  sum_send_wait_ms: number;
  sum_response_ms: number;
  /** Requests due but not yet sent when the interval ended (waiting for a free connection). */
  backlog: number;
  in_flight: number;
  connections: number;
  /** The generator's own CPU time in the interval, ms, and the worst lateness of its own event loop, ms. */
  cpu_ms: number;
  loop_lag_max_ms: number;
  /** True when the generator could not keep its rate for reasons of its own; reasons say which. */
  saturated: boolean;
  saturation: string[];
  /** A warm-up interval: load runs, figures leave it out. */
  warmup?: boolean;
  /**
   * A closed-loop phase: there is no intended send time, so latency runs from each user's own send; latency_hdr
   * equals uncorrected_hdr and sum_send_wait_ms is 0 by construction, not because nothing waited.
   */
  closed_loop?: boolean;
  /** Closed-loop users of the phase (all threads). */
  users?: number;
  /** TCP connects completed in the interval, their summed time (ms) and distribution (µs, HDR); with `connection: new`, one per request. */
  connects?: number;
  sum_connect_ms?: number;
  connect_hdr?: string;
  /** Per entry of a request mix, in the config's order. */
  mix?: MixInterval[];
  /** Slow clients (headers trickled): connections open at the end of the interval, their requests answered and failed in it. */
  slow?: { open: number; completed: number; errors: number };
  /** Idle connections held open at the end of the interval. */
  idle_open?: number;
  /** The worst lateness of a send the generator itself caused (a connection was free), ms; only when some were late. */
  send_late_max_ms?: number;
  /** Generator threads whose reports were merged into this interval (histograms added, counts summed). */
  threads?: number;
}

export interface StageSum {
  /** Sum over requests of time spent in the stage, ms. */
  sum_ms: number;
  /** The requests the sum is over: all finished ones for handler stages, the joined ones for the queue stages. */
  requests: number;
  /** How often the stage was entered. Zero means the stage was never measured (null in reports), not "took 0". */
  entries: number;
}

/** What the server-side agents saw in one interval, merged over all of the server's contexts. */
export interface ServerInterval {
  /** Responses finished in the interval. */
  requests: number;
  /** Of those, requests that carried the generator's send time, so their server-side parts could be measured. */
  joined: number;
  /**
   * Requests in flight at the server (handler start to response end) integrated over the interval, request-ms:
   * divided by interval_ms, the mean number in flight (Little's L). Absent where an agent did not measure it.
   */
  in_flight_ms?: number;
  stages: Record<StageName, StageSum>;
  /** Handler start to response finish, seconds, all finished requests. */
  duration: ExpHistogramData;
  /**
   * Requests served on threads that run one request at a time (the blocking models): their wall time split by the
   * thread's schedstat into on CPU, runnable but waiting for a CPU, and blocked (sleeping in the kernel), ms summed.
   * `blocked_ms` is what is left of the wall time, never below 0; `wall_ms` the same requests' wall time from the clock
   * (absent in recordings made before it was sent). Absent when no such thread served requests.
   */
  thread_split?: { requests: number; on_cpu_ms: number; runqueue_ms: number; blocked_ms: number; wall_ms?: number };
  /** Data the agents dropped (bounded buffers full) and errors they caught, in the interval. */
  dropped: number;
  agent_errors: number;
  /**
   * Absent: the agents in the server measured this. 'kernel': the kernel tracer did, for a server with no agent in it
   * (agents/kernel/): `process` is then the whole handler (first read of the request to first write of the answer)
   * less the calls it made, `downstream` those calls (their first write to the reply's first read), `parse` and
   * `transform` are not measured (entries 0), and the accept queue is per connection, as the agents' is.
   */
  source?: 'kernel';
}

/** One execution context (a process or a thread) in one interval. */
export interface ContextInterval {
  /** Stable key within the run: "pid" or "pid/tid". */
  key: string;
  pid: number;
  tid: number | null;
  name: string;
  role: string;
  cpu_user_ms: number;
  cpu_system_ms: number;
  /** Context switches in the interval: the context gave up the CPU (voluntary) or had it taken (involuntary). */
  voluntary: number;
  involuntary: number;
  /** Time runnable but waiting for a CPU (schedstat), ms; null where not readable. */
  runqueue_wait_ms: number | null;
  /** Event-loop timer lateness, seconds; null for contexts without a loop. */
  eventloop_delay: ExpHistogramData | null;
  eventloop_utilization: number | null;
  rss_bytes: number | null;
}

/** The backend tier's own view of the interval. */
export interface BackendInterval {
  calls: number;
  completed: number;
  /** Calls waiting for a service slot (beyond the concurrency limit): maximum and time-weighted mean. */
  queue_max: number;
  queue_mean: number;
  in_service_max: number;
  limit: number;
  /** Sum of service times (the latency drawn from the distribution), ms, and of queueing before service, ms. */
  sum_service_ms: number;
  sum_queue_ms: number;
  /**
   * Sum of how much later than its drawn service time each call's timer ran, ms (timer rounding, the backend's loop
   * busy, its process waiting for a CPU): what the backend added to the calls beyond what it was asked to. Absent in
   * recordings made before it was measured.
   */
  sum_late_ms?: number;
  /**
   * The backend process's own CPU, ms, read when the interval is sent (so within ms of its end); it shares the host's
   * cores with the server. Absent in recordings made before it was read.
   */
  cpu_ms?: number;
}

/**
 * One request kept whole by an agent (exemplar tracing on): the interval's slowest, or one drawn at random. Its
 * trace id is the client's (the generator's traceparent is continued), so both views of the request join.
 */
export interface Exemplar {
  kind: 'slowest' | 'sample';
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  pid: number;
  tid: number | null;
  /** Handler start to response finish, ms, and the server-side parts of it, ms. */
  duration_ms: number;
  parts_ms: Partial<Record<StageName, number>>;
}

/** The server's listening sockets, sampled from /proc by the runner: connections waiting to be accepted. */
export interface AcceptQueueInterval {
  length_max: number;
  length_mean: number;
  samples: number;
}

/**
 * The kernel tracer's view of the accept queue (agents/kernel/): connections accepted in the interval whose handshake
 * it saw, and their summed wait from the handshake done to the server's accept, ms.
 */
export interface AcceptWaitInterval {
  connections: number;
  sum_ms: number;
}

export interface Frame {
  kind: 'frame';
  run: number;
  /** Interval index on the host's monotonic clock: floor(t_ms / interval_ms). */
  index: number;
  t_ms: number;
  interval_ms: number;
  phase: string | null;
  generator: GeneratorInterval | null;
  server: ServerInterval | null;
  contexts: ContextInterval[];
  backend: BackendInterval | null;
  /** The accept queue of the server's listening sockets (absent when it could not be sampled). */
  accept_queue?: AcceptQueueInterval;
  /** The time connections waited in it, from the kernel (absent when the kernel tracer did not run). */
  accept_wait?: AcceptWaitInterval;
  /** Requests kept whole by the agents in this interval (absent when exemplar tracing is off). */
  exemplars?: Exemplar[];
  /**
   * Agents' intervals that reached the collector after their own frame had gone out (an agent starved for longer
   * than the frames wait for it): lost to the figures, and counted here, on the next frame out. Absent: none.
   */
  agents_late?: number;
}

export type RecordingRecord = RecordingHeader | RunStart | Frame | RunEnd | RecordingEnd;
