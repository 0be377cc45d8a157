/**
 * The agent's Prometheus families that a report reads, and where each lands in an agent's interval. Names as the
 * agent's scrape page spells them (OpenTelemetry's conversion of src/vocabulary/metric-names.ts: dots to
 * underscores, the unit as a suffix, `_total` on counters).
 */
export const FAMILY = {
  requests: 'srvlens_requests_total',
  joined: 'srvlens_requests_joined_total',
  inFlight: 'srvlens_requests_in_flight_time_seconds_total',
  partTime: 'srvlens_request_part_time_seconds_total',
  partEntries: 'srvlens_request_part_entries_total',
  splitRequests: 'srvlens_requests_split_total',
  splitTime: 'srvlens_requests_split_time_seconds_total',
  threadTime: 'srvlens_request_thread_time_seconds_total',
  duration: 'http_server_request_duration_seconds',
  loopDelay: 'srvlens_eventloop_delay_seconds',
  loopUtilization: 'nodejs_eventloop_utilization_ratio',
  threadCpu: 'srvlens_thread_cpu_time_seconds_total',
  threadSwitches: 'srvlens_thread_context_switches_total',
  threadRunqueue: 'srvlens_thread_runqueue_wait_seconds_total',
  threads: 'srvlens_context_threads',
  processCpu: 'process_cpu_time_seconds_total',
  processSwitches: 'process_context_switches_total',
  processRunqueue: 'srvlens_process_runqueue_wait_seconds_total',
  rss: 'process_memory_usage_bytes',
  dropped: 'srvlens_agent_dropped_total',
  errors: 'srvlens_agent_errors_total',
  targetInfo: 'target_info',
} as const;

/** Labels of the page (OpenTelemetry attribute names, dots to underscores). */
export const LABEL = {
  thread: 'thread_name',
  kind: 'srvlens_context_kind',
  part: 'srvlens_part',
  cpuMode: 'cpu_mode',
  switchType: 'process_context_switch_type',
  threadState: 'srvlens_thread_state',
  service: 'service_name',
  pid: 'process_pid',
  model: 'srvlens_model',
  role: 'srvlens_role',
  intervalMs: 'srvlens_interval_ms',
  cpuLimit: 'srvlens_cpu_limit',
  cpuLimitSource: 'srvlens_cpu_limit_source',
} as const;
