/**
 * The bpftrace program the kernel tracer runs: everything is summed in the kernel (maps keyed by connection and by
 * thread) and printed once per interval, so the cost is a few map updates per request, never an event per request
 * through a pipe. Tracepoints only: this kernel has no kprobe_events (../shared/PLATFORM.md).
 *
 * What it times, per connection `sk` (the kernel's struct sock, the same pointer in every tracepoint):
 *   established  sock:inet_sock_set_state SYN_RECV -> ESTABLISHED on a listening port of the tree (softirq)
 *   accepted     sys_exit_accept[4] by a process of the tree; fd -> struct file -> socket -> sk
 *   arrived      sock:sk_data_ready: the first bytes since the last response (softirq)
 *   read         sock:sock_recv_length > 0 by the server: the first read of those bytes
 *   answered     sock:sock_send_length > 0: the first write after that read
 *   last write   the last write before the next request's bytes arrive, or the close
 * giving accept_queue (established -> accepted), server_queue (max(arrived, accepted) -> read), server time (read ->
 * first write) and send (first -> last write).
 *
 * For a thread that serves one request at a time, its server time is split three ways by three independent
 * counters of the kernel, so that their sum is a check, not a remainder: on CPU (the task's sum_exec_runtime), run
 * queue (its schedstat run_delay) and blocked (sched_switch away in a sleeping state -> sched_wakeup). A thread
 * that starts a request while another is open on it (an event loop) is marked shared and its requests not split.
 *
 * A connection whose server's first write does not begin with "HTTP/" (TLS, HTTP/2) is marked and left out of the
 * timing; responses are counted by their "HTTP/" prefix, so pipelined requests answered after one read count too.
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

/** The counters each interval prints, in the order of ProgramCounters (tracer-output.ts). */
export const COUNTERS = [
  'accepts',
  'aq_n',
  'aq_ns',
  'sq_n',
  'sq_ns',
  'req',
  'srv_ns',
  'srv_max_ns',
  'send_n',
  'send_ns',
  'split_n',
  'split_srv_ns',
  'oncpu_ns',
  'rq_ns',
  'blk_ns',
  'resp',
  'nothttp',
] as const;

/** The program's state, cleared at its end so that bpftrace does not print every map as it exits. */
const STATE_MAPS = ['w', 'est', 'acc', 'fdsk', 'arr', 'rd', 'rt', 'open', 'shared', 'cpu0', 'rq0', 'blk', 'inreq', 'bs', 'pfx', 'head', 'http', 's0', 'sl'];

/** task_struct's report bits of a sleeping state (S, D, T, t, X, Z, P); a preempted task shows none of them. */
const SLEEPING_STATES = 0x7f;
/** The TCP states of inet_sock_set_state (include/net/tcp_states.h). */
const TCP_ESTABLISHED = 1;
const TCP_SYN_RECV = 3;
/** "HTTP" as the first four bytes of a write, read as a little-endian 32-bit number (x86-64, arm64). */
const HTTP_LE = 0x50545448;

export function tracerProgram(o: TracerProgramOptions): string {
  if (o.pids.length === 0) throw new Error('tracerProgram: no process to trace');
  const seed = o.pids.map((p) => `@w[${p}] = 1;`).join(' ');
  // No port: no handshake is timed (accept_queue unmeasured), the rest still is.
  const portTest = o.ports.length === 0 ? '0' : o.ports.map((p) => `args->sport == ${p}`).join(' || ');
  const print = COUNTERS.map((c) => `print(@${c}); clear(@${c});`).join(' ');
  return `
BEGIN { ${seed} printf("srvlens-ready\\n"); }

tracepoint:sched:sched_process_fork /@w[pid]/ { @w[args->child_pid] = 1; }

tracepoint:sched:sched_process_exit /pid == ${o.ownerPid} && tid == ${o.ownerPid}/ { exit(); }

tracepoint:sock:inet_sock_set_state
/args->newstate == ${TCP_ESTABLISHED} && args->oldstate == ${TCP_SYN_RECV} && (${portTest})/
{ @est[(uint64)args->skaddr] = nsecs; }

tracepoint:syscalls:sys_exit_accept4, tracepoint:syscalls:sys_exit_accept
/@w[pid] && args->ret >= 0/
{
  $file = *(curtask->files->fdt->fd + args->ret);
  $sk = (uint64)((struct socket *)$file->private_data)->sk;
  @accepts = count();
  if (@est[$sk]) { @aq_n = count(); @aq_ns = sum(nsecs - @est[$sk]); delete(@est[$sk]); }
  @acc[$sk] = nsecs;
  @fdsk[pid, (int64)args->ret] = $sk;
}

tracepoint:sock:sk_data_ready /@acc[(uint64)args->skaddr] || @est[(uint64)args->skaddr]/
{
  $sk = (uint64)args->skaddr;
  if (!@arr[$sk]) { @arr[$sk] = nsecs; }
  if (@s0[$sk]) { @send_n = count(); @send_ns = sum(@sl[$sk] - @s0[$sk]); delete(@s0[$sk]); delete(@sl[$sk]); }
}

tracepoint:sock:sock_recv_length /args->ret > 0 && @acc[(uint64)args->sk]/
{
  $sk = (uint64)args->sk;
  if (!@rd[$sk] && @arr[$sk] && @http[$sk] != 2) {
    $from = @arr[$sk] > @acc[$sk] ? @arr[$sk] : @acc[$sk];
    @sq_n = count(); @sq_ns = sum(nsecs - $from);
    @rd[$sk] = nsecs;
    @rt[$sk] = tid;
    @open[tid] = @open[tid] + 1;
    if (@open[tid] > 1) { @shared[tid] = 1; }
    @cpu0[$sk] = curtask->se.sum_exec_runtime;
    @rq0[$sk] = curtask->sched_info.run_delay;
    @blk[tid] = 0;
    @inreq[tid] = 1;
  }
  delete(@arr[$sk]);
}

tracepoint:sched:sched_switch /@inreq[args->prev_pid] && (args->prev_state & ${SLEEPING_STATES})/
{ @bs[args->prev_pid] = nsecs; }

tracepoint:sched:sched_wakeup /@bs[args->pid]/
{ @blk[args->pid] = @blk[args->pid] + (nsecs - @bs[args->pid]); delete(@bs[args->pid]); }

tracepoint:syscalls:sys_enter_write /@fdsk[pid, (int64)args->fd]/
{ @pfx[tid] = @fdsk[pid, (int64)args->fd]; @head[tid] = *(uint32 *)uptr(args->buf); }

tracepoint:syscalls:sys_enter_sendto /@fdsk[pid, (int64)args->fd]/
{ @pfx[tid] = @fdsk[pid, (int64)args->fd]; @head[tid] = *(uint32 *)uptr(args->buff); }

tracepoint:syscalls:sys_enter_writev /@fdsk[pid, (int64)args->fd]/
{ $v = (struct iovec *)args->vec; @pfx[tid] = @fdsk[pid, (int64)args->fd]; @head[tid] = *(uint32 *)uptr($v->iov_base); }

tracepoint:sock:sock_send_length /args->ret > 0 && @acc[(uint64)args->sk]/
{
  $sk = (uint64)args->sk;
  if (@pfx[tid] == $sk) {
    if (@head[tid] == ${HTTP_LE}) { @resp = count(); @http[$sk] = 1; }
    else if (!@http[$sk]) { @http[$sk] = 2; @nothttp = count(); }
    delete(@pfx[tid]); delete(@head[tid]);
  }
  if (@rd[$sk]) {
    $srv = nsecs - @rd[$sk];
    @req = count(); @srv_ns = sum($srv); @srv_max_ns = max($srv);
    $t = @rt[$sk];
    if ($t == tid && !@shared[tid]) {
      @split_n = count(); @split_srv_ns = sum($srv);
      @oncpu_ns = sum(curtask->se.sum_exec_runtime - @cpu0[$sk]);
      @rq_ns = sum(curtask->sched_info.run_delay - @rq0[$sk]);
      @blk_ns = sum(@blk[tid]);
    }
    @open[$t] = @open[$t] - 1;
    if (@open[$t] == 0) { delete(@inreq[$t]); }
    delete(@rd[$sk]); delete(@rt[$sk]); delete(@cpu0[$sk]); delete(@rq0[$sk]);
    @s0[$sk] = nsecs;
  }
  @sl[$sk] = nsecs;
}

tracepoint:syscalls:sys_enter_close /@fdsk[pid, (int64)args->fd]/
{
  $sk = @fdsk[pid, (int64)args->fd];
  if (@s0[$sk]) { @send_n = count(); @send_ns = sum(@sl[$sk] - @s0[$sk]); }
  if (@rd[$sk]) { $t = @rt[$sk]; @open[$t] = @open[$t] - 1; if (@open[$t] == 0) { delete(@inreq[$t]); } }
  delete(@s0[$sk]); delete(@sl[$sk]); delete(@rd[$sk]); delete(@rt[$sk]); delete(@cpu0[$sk]); delete(@rq0[$sk]);
  delete(@arr[$sk]); delete(@acc[$sk]); delete(@http[$sk]); delete(@fdsk[pid, (int64)args->fd]);
}

interval:ms:${o.intervalMs}
{ ${print} printf("srvlens-tick %lld\\n", nsecs); }

END { ${print} printf("srvlens-tick %lld\\n", nsecs); ${STATE_MAPS.map((m) => `clear(@${m});`).join(' ')} }
`;
}
