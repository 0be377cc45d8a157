/**
 * The bpftrace program the kernel tracer runs where its libbpf program (native/bpf/tracer.bpf.c: the same figures,
 * printed in the same lines, a third of the BPF time and none of the write tracepoints' cost; kernel-tracer.ts says
 * when which runs) is not built or does not load. Everything is summed in the kernel (maps keyed by connection and by
 * thread) and printed once per interval, so the cost is some tens of map operations per request (bench/README.md
 * measures them), never an event per request through a pipe. Tracepoints only: this kernel has no kprobe_events
 * (../shared/PLATFORM.md). The names below (PER_CPU_SUMS, AGGREGATES, PER_INTERVAL, DURATION_MAP) are the output's
 * for both programs: native/bpf/tracer.h lays out the same sums.
 *
 * What it times, per connection `sk` (the kernel's struct sock, the same pointer in every tracepoint):
 *   established  sock:inet_sock_set_state SYN_RECV -> ESTABLISHED on a listening port of the tree (softirq)
 *   accepted     sys_exit_accept[4] by a process of the tree; fd -> struct file -> socket -> sk (a connection
 *                accepted before the trace began is adopted at the first write to it: see writeProbe)
 *   arrived      sock:sk_data_ready: the first bytes since the last response (softirq)
 *   read         sock:sock_recv_length > 0 by the server: the first read of those bytes
 *   answered     sock:sock_send_length > 0: the first write after that read
 *   last write   the last write before the next request's bytes arrive, or the close
 * giving accept_queue (established -> accepted), server_queue (max(arrived, accepted) -> read), server time (read ->
 * first write) and send (first -> last write).
 *
 * For a thread that serves one request at a time, its server time is split three ways by three independent
 * counters of the kernel, so that their sum is a check, not a remainder: on CPU (its time between sched_switch in and
 * out: the task's sum_exec_runtime is brought up to date only at scheduler events, a tick behind a running task),
 * run queue (its schedstat run_delay, up to date whenever the task runs) and blocked (sched_switch away in a
 * sleeping state -> sched_wakeup). A thread that starts a request while another is open on it (an event loop) is
 * marked shared, its requests not split, and the thread no longer followed.
 *
 * A connection whose server's first write does not begin with "HTTP/" (TLS, HTTP/2) is marked and left out of the
 * timing; responses are counted by their "HTTP/" prefix, so pipelined requests answered after one read count too.
 *
 * Per outgoing connection (connect() by the tree, or one opened before the trace began, adopted at its first write:
 * an established TCP socket on a port the tree does not listen on), each call's first write -> the reply's first
 * bytes on the socket (the upstream's time) -> the server's first read of them (the wait for its thread or loop):
 * what an in-process agent sees as one `downstream`, split.
 *
 * Counters are cumulative, never cleared: the reader takes differences, so no event between a print and a clear is
 * lost (bpftrace reads maps after the probe that prints them). The server time's distribution is kept the same way,
 * as an OpenTelemetry exponential histogram of seconds at scale DURATION_SCALE, so it merges with the agents'. At
 * each boundary of the interval grid (floor(CLOCK_MONOTONIC / interval), as every srvlens clock) the program prints
 * them all; the interval's longest server time, which does not difference, is kept per interval.
 */

export interface TracerProgramOptions {
  /** The processes of the tree now; their children are followed from fork on. */
  pids: number[];
  /** The tree's listening TCP ports: the handshakes the accept queue is timed from. */
  ports: number[];
  intervalMs: number;
  /** The process that reads the output: the program ends when it does, however it ends (SIGKILL included). */
  ownerPid: number;
}

/**
 * The running sums of the hot probes, as tuples in maps keyed by CPU: one lookup and one update a probe run for all
 * of its sums, where an aggregation (count(), sum()) is a lookup and an update each (bpftrace 0.17 updates nothing in
 * place). A CPU runs one BPF program at a time (the kernel skips a tracepoint program that would nest), so the
 * read-modify-write of a CPU's own tuple races nothing. The reader sums them over CPUs.
 */
export const PER_CPU_SUMS = {
  kr: ['sq_n', 'sq_ns', 'send_n', 'send_ns', 'up_n', 'up_ns', 'ow_ns'],
  ks: ['srv_ns', 'split_n', 'split_srv_ns', 'oncpu_ns', 'rq_ns', 'blk_ns'],
  kw: ['resp', 'nothttp', 'adopted', 'adopted_out'],
} as const;

/** The running sums the program prints at each boundary (tracer-output.ts reads them): aggregations of rare events. */
export const AGGREGATES = ['accepts', 'aq_n', 'aq_ns'] as const;

/** Every running sum by name. */
export const COUNTERS = [...AGGREGATES, ...PER_CPU_SUMS.kr, ...PER_CPU_SUMS.ks, ...PER_CPU_SUMS.kw] as const;

/** Maps keyed by interval index: the interval's longest server time, ns (its requests are counted by DURATION_MAP). */
export const PER_INTERVAL = ['srv_max_ns'] as const;
/** The map of server-time bucket counts, keyed by exponential-histogram index. */
export const DURATION_MAP = 'dur';
/** 2^3 buckets per power of two: 9 % wide, the quantiles within 4.5 %. */
export const DURATION_SCALE = 3;
/** How often the program looks whether a boundary of the grid has passed: the figures' edges are this late at most. */
export const BOUNDARY_POLL_MS = 2;

/**
 * The program's state, cleared at its end so that bpftrace does not print every map as it exits. Not the counters:
 * a clear in END can be done before END's own print is read, which then reads them empty; printed again by bpftrace
 * as it exits, they are the same running sums.
 */
const STATE_MAPS = ['w', 'est', 'acc', 'fdsk', 'nosk', 'arr', 'rq', 'snd', 'open', 'shared', 'oc', 'on', 'blk', 'inreq', 'bs', 'cfd', 'out', 'ofd', 'os', 'oa', 'cur'];

/** task_struct's report bits of a sleeping state (S, D, T, t, X, Z, P); a preempted task shows none of them. */
const SLEEPING_STATES = 0x7f;
/** The TCP states of inet_sock_set_state (include/net/tcp_states.h). */
const TCP_ESTABLISHED = 1;
const TCP_SYN_RECV = 3;
/** "HTTP" as the first four bytes of a write, read as a little-endian 32-bit number (x86-64, arm64). */
const HTTP_LE = 0x50545448;
/** Address families of a TCP socket (a connected UNIX socket's state reads ESTABLISHED too). */
const AF_INET = 2;
const AF_INET6 = 10;
/** S_IFMT and S_IFSOCK of an inode's i_mode: the fd is a socket's. */
const S_IFMT = 0xf000;
const S_IFSOCK = 0xc000;
/** Above this many processes at the start, a write is tested against the tree's map instead of one PID at a time. */
const MAX_ADOPTING_PIDS = 32;
/** What a connection's first answer said it is, kept beside its accept time: HTTP/1.x, or not (TLS, HTTP/2). */
const IS_HTTP = 1;
const NOT_HTTP = 2;
/** connect() on a non-blocking socket returns -EINPROGRESS: the socket is the call's all the same. */
const EINPROGRESS = 115;
/** A server time is clamped here before it is scaled (ns x 2^27 overflows 64 bits above ~68 s). */
export const DURATION_CLAMP_NS = 60e9;

/**
 * The statements that put `$v` ns in its bucket of @dur: the index at DURATION_SCALE of v seconds is
 * floor(8 log2(v)). With v in units of 2^-30 s (ns x 2^30 / 1e9 = ns x 2^27 / 125e6), that is
 * 8 x (its top bit) + (which eighth of the octave its next 16 bits fall in) - 8 x 30.
 */
function durationBucket(): string {
  const eighths = Array.from({ length: 7 }, (_, j) => Math.ceil(65536 * 2 ** ((j + 1) / 8)));
  const top = [32, 16, 8, 4, 2, 1].map((b) => `if ($x >= (uint64)1 << ${b}) { $x = $x >> ${b}; $b = $b + ${b}; }`).join('\n    ');
  return `$u = ($v > ${DURATION_CLAMP_NS} ? (uint64)${DURATION_CLAMP_NS} : (uint64)$v) * 134217728 / 125000000;
    if ($u == 0) { $u = 1; }
    $x = $u; $b = (uint64)0;
    ${top}
    $f = $b >= 16 ? $u >> ($b - 16) : $u << (16 - $b);
    $j = ${eighths.map((e) => `($f >= ${e} ? 1 : 0)`).join(' + ')};
    @${DURATION_MAP}[(int64)($b * 8 + $j) - ${8 * 30}] = count();`;
}

/** Adds `add` (counter -> expression) to this CPU's tuple of `map` (PER_CPU_SUMS). */
function addSums(map: keyof typeof PER_CPU_SUMS, add: Partial<Record<(typeof PER_CPU_SUMS)[typeof map][number], string>>): string {
  const names: readonly string[] = PER_CPU_SUMS[map];
  const add_ = add as Record<string, string | undefined>;
  const fields = names.map((n, i) => (add_[n] === undefined ? `$${map}.${i}` : `$${map}.${i} + (uint64)(${add_[n]})`));
  return `$${map} = @${map}[cpu]; @${map}[cpu] = (${fields.join(', ')});`;
}

/** The calling process's struct file of descriptor `fd`, and the struct sock of a socket's file, as bpftrace reads them. */
const fileOf = (fd: string) => `*(curtask->files->fdt->fd + ${fd})`;
const skOf = (file: string) => `(uint64)((struct socket *)(${file})->private_data)->sk`;

export function tracerProgram(o: TracerProgramOptions): string {
  if (o.pids.length === 0) throw new Error('tracerProgram: no process to trace');
  const seed = o.pids.map((p) => `@w[${p}] = 1;`).join(' ');
  // No port: no handshake is timed (accept_queue unmeasured), the rest still is.
  const portIs = (v: string) => (o.ports.length === 0 ? '0' : o.ports.map((p) => `${v} == ${p}`).join(' || '));
  const portTest = portIs('args->sport');
  // The processes there at the start: only they can hold connections accepted before the trace began. Compared one
  // by one, as the cheap test a write by any process on the host goes through first.
  const startPids = o.pids.length <= MAX_ADOPTING_PIDS ? o.pids.map((p) => `pid == ${p}`).join(' || ') : '@w[pid]';
  // A process of the tree: the start PIDs compared first (no map call), then the tree's map. The test every probe in
  // process context begins with: the load generator's half of each request (its writes, sends and reads, as many as
  // the server's) then costs one lookup.
  const inTree = o.pids.length <= MAX_ADOPTING_PIDS ? `${startPids} || @w[pid]` : '@w[pid]';
  /**
   * The tree's writes to a connection it accepted: the answer's first four bytes, counted as a response when they
   * are "HTTP", and the connection's verdict from its first answer. A connection accepted before the trace began is adopted at its first answer:
   * an established socket on a listening port, found from the fd; its next requests are timed as any other's. An
   * established TCP socket on another port is one the tree opened itself: an outgoing connection, adopted as one.
   */
  const writeProbe = (probe: string, buf: string) => `tracepoint:syscalls:${probe}
/${inTree}/
{
  $sk = @fdsk[pid, (int64)args->fd];
  if (!$sk && (${startPids}) && !@nosk[pid, (int64)args->fd]) {
    $file = ${fileOf('args->fd')};
    $known = 0;
    if ($file != 0 && ($file->f_inode->i_mode & ${S_IFMT}) == ${S_IFSOCK}) {
      $s = (struct sock *)${skOf('$file')};
      $port = $s->__sk_common.skc_num;
      $family = $s->__sk_common.skc_family;
      if ($s->__sk_common.skc_state == ${TCP_ESTABLISHED} && ($family == ${AF_INET} || $family == ${AF_INET6})) {
        if (${portIs('$port')}) {
          $sk = (uint64)$s;
          @acc[$sk] = ((uint64)1, (uint64)0);
          @fdsk[pid, (int64)args->fd] = $sk;
          ${addSums('kw', { adopted: '1' })}
          $known = 1;
        } else if (!@out[(uint64)$s]) {
          // A connection the tree opened before the trace began: its calls are timed from this write on.
          @out[(uint64)$s] = 1;
          @ofd[pid, (int64)args->fd] = (uint64)$s;
          ${addSums('kw', { adopted_out: '1' })}
        }
      }
    }
    if (!$known) { @nosk[pid, (int64)args->fd] = 1; }
  }
  if ($sk) {
    // Read here, where the buffer is, rather than kept for sock_send_length: a map update, lookup and delete less.
    $a = @acc[$sk];
    if ((uint64)*(uint32 *)uptr(${buf}) == ${HTTP_LE}) {
      ${addSums('kw', { resp: '1' })}
      if ($a.1 != ${IS_HTTP}) { @acc[$sk] = ($a.0, (uint64)${IS_HTTP}); }
    } else if (!$a.1) { @acc[$sk] = ($a.0, (uint64)${NOT_HTTP}); ${addSums('kw', { nothttp: '1' })} }
  }
}`;
  // Each tuple's type, for bpftrace to know it before the probes that read it (a zero tuple on CPU 0 sums to nothing).
  const sumsTypes = Object.entries(PER_CPU_SUMS)
    .map(([m, names]) => `@${m}[(uint64)0] = (${names.map(() => '(uint64)0').join(', ')});`)
    .join(' ');
  const print = [...AGGREGATES, ...Object.keys(PER_CPU_SUMS), ...PER_INTERVAL, DURATION_MAP].map((c) => `print(@${c});`).join(' ');
  return `
BEGIN { ${seed} ${sumsTypes} printf("srvlens-ready\\n"); }

tracepoint:sched:sched_process_fork /@w[pid]/ { @w[args->child_pid] = 1; }

tracepoint:sched:sched_process_exit /pid == ${o.ownerPid} && tid == ${o.ownerPid}/ { exit(); }

tracepoint:sock:inet_sock_set_state
/args->newstate == ${TCP_ESTABLISHED} && args->oldstate == ${TCP_SYN_RECV} && (${portTest})/
{ @est[(uint64)args->skaddr] = nsecs; }

tracepoint:syscalls:sys_exit_accept4, tracepoint:syscalls:sys_exit_accept
/@w[pid] && args->ret >= 0/
{
  $sk = ${skOf(fileOf('args->ret'))};
  @accepts = count();
  if (@est[$sk]) { @aq_n = count(); @aq_ns = sum(nsecs - @est[$sk]); delete(@est[$sk]); }
  @acc[$sk] = ((uint64)nsecs, (uint64)0);
  @fdsk[pid, (int64)args->ret] = $sk;
}

tracepoint:syscalls:sys_enter_connect /@w[pid]/ { @cfd[tid] = args->fd + 1; }

tracepoint:syscalls:sys_exit_connect /@cfd[tid]/
{
  if (args->ret == 0 || args->ret == -${EINPROGRESS}) {
    $fd = @cfd[tid] - 1;
    $sk = ${skOf(fileOf('$fd'))};
    @out[$sk] = 1;
    @ofd[pid, (int64)$fd] = $sk;
  }
  delete(@cfd[tid]);
}

// In softirq: any process may be current, so no test of the tree first. The response before these bytes is closed
// (its last write) by the read of them, in the server's context, which updates its sums anyway.
tracepoint:sock:sk_data_ready
{
  $sk = (uint64)args->skaddr;
  $a = @acc[$sk];
  if ($a.0 || @est[$sk]) {
    if (!@arr[$sk]) { @arr[$sk] = nsecs; }
  } else if (@out[$sk]) {
    if (@os[$sk] && !@oa[$sk]) { @oa[$sk] = nsecs; }
  }
}

tracepoint:sock:sock_recv_length /args->ret > 0 && (${inTree})/
{
  $now = nsecs;
  $sk = (uint64)args->sk;
  $a = @acc[$sk];
  if ($a.0) {
    $arr = @arr[$sk];
    if ($arr) {
      delete(@arr[$sk]);
      $s = @snd[$sk];
      $sn = (uint64)0; $sns = (uint64)0;
      if ($s.0) { $sn = 1; $sns = $s.1 - $s.0; delete(@snd[$sk]); }
      $qn = (uint64)0; $qns = (uint64)0;
      $r = @rq[$sk];
      if (!$r.0 && $a.1 != ${NOT_HTTP}) {
        $from = $arr > $a.0 ? $arr : $a.0;
        $qn = 1; $qns = $now - $from;
        $sh = @shared[tid];
        if (!$sh) {
          $n = @open[tid] + 1;
          if ($n > 1) { @shared[tid] = 1; $sh = 1; delete(@open[tid]); delete(@inreq[tid]); }
          else { @open[tid] = $n; @oc[tid] = 0; @on[tid] = $now; @blk[tid] = 0; @inreq[tid] = 1; }
        }
        @rq[$sk] = ((uint64)$now, (uint64)tid, $sh ? (uint64)0 : (uint64)curtask->sched_info.run_delay);
      }
      ${addSums('kr', { sq_n: '$qn', sq_ns: '$qns', send_n: '$sn', send_ns: '$sns' })}
    }
  } else {
    $oa = @oa[$sk];
    if ($oa) { ${addSums('kr', { up_n: '1', up_ns: '$oa - @os[$sk]', ow_ns: '$now - $oa' })} delete(@os[$sk]); delete(@oa[$sk]); }
  }
}

tracepoint:sched:sched_switch
{
  $now = nsecs;
  $p = args->prev_pid;
  if (@inreq[$p]) {
    @oc[$p] = @oc[$p] + ($now - @on[$p]);
    if (args->prev_state & ${SLEEPING_STATES}) { @bs[$p] = $now; }
  }
  if (@inreq[args->next_pid]) { @on[args->next_pid] = $now; }
}

tracepoint:sched:sched_wakeup /@bs[args->pid]/
{ @blk[args->pid] = @blk[args->pid] + (nsecs - @bs[args->pid]); delete(@bs[args->pid]); }

${writeProbe('sys_enter_write', 'args->buf')}

${writeProbe('sys_enter_sendto', 'args->buff')}

${writeProbe('sys_enter_writev', '((struct iovec *)args->vec)->iov_base')}

tracepoint:sock:sock_send_length /args->ret > 0 && (${inTree})/
{
  $now = nsecs;
  $sk = (uint64)args->sk;
  if (@acc[$sk].0) {
    $r = @rq[$sk];
    if ($r.0) {
      $srv = $now - $r.0;
      @srv_max_ns[$now / ${o.intervalMs * 1e6}] = max($srv);
      $v = $srv;
      ${durationBucket()}
      $t = $r.1;
      $spn = (uint64)0; $spsrv = (uint64)0; $oc = (uint64)0; $rqd = (uint64)0; $bl = (uint64)0;
      if (!@shared[$t]) {
        if ($t == tid) {
          $spn = 1; $spsrv = $srv;
          $oc = @oc[tid] + ($now - @on[tid]);
          $rqd = curtask->sched_info.run_delay - $r.2;
          $bl = @blk[tid];
        }
        $n = @open[$t] - 1;
        if ($n <= 0) { delete(@open[$t]); delete(@inreq[$t]); } else { @open[$t] = $n; }
      }
      ${addSums('ks', { srv_ns: '$srv', split_n: '$spn', split_srv_ns: '$spsrv', oncpu_ns: '$oc', rq_ns: '$rqd', blk_ns: '$bl' })}
      delete(@rq[$sk]);
      @snd[$sk] = ((uint64)$now, (uint64)$now);
    } else {
      $s = @snd[$sk];
      if ($s.0) { @snd[$sk] = ($s.0, (uint64)$now); }
    }
  } else if (@out[$sk]) {
    if (!@os[$sk]) { @os[$sk] = $now; }
  }
}

tracepoint:syscalls:sys_enter_close /${inTree}/
{
  delete(@nosk[pid, (int64)args->fd]);
  $sk = @fdsk[pid, (int64)args->fd];
  if ($sk) {
    $s = @snd[$sk];
    if ($s.0) { ${addSums('kr', { send_n: '1', send_ns: '$s.1 - $s.0' })} }
    $r = @rq[$sk];
    $t = $r.1;
    if ($r.0 && !@shared[$t]) {
      $n = @open[$t] - 1;
      if ($n <= 0) { delete(@open[$t]); delete(@inreq[$t]); } else { @open[$t] = $n; }
    }
    delete(@snd[$sk]); delete(@rq[$sk]); delete(@arr[$sk]); delete(@acc[$sk]); delete(@fdsk[pid, (int64)args->fd]);
  } else {
    $o = @ofd[pid, (int64)args->fd];
    if ($o) { delete(@out[$o]); delete(@os[$o]); delete(@oa[$o]); delete(@ofd[pid, (int64)args->fd]); }
  }
}

interval:ms:${BOUNDARY_POLL_MS}
{
  $k = nsecs / ${o.intervalMs * 1e6};
  // The first time through is not a boundary but the program's start, within an interval.
  if (@cur && $k != @cur) {
    ${print} printf("srvlens-tick %lld %lld\\n", $k, nsecs);
    ${PER_INTERVAL.map((m) => `delete(@${m}[$k - 2]);`).join(' ')}
  }
  @cur = $k;
}

END { ${print} printf("srvlens-end %lld\\n", nsecs); ${STATE_MAPS.map((m) => `clear(@${m});`).join(' ')} }
`;
}
