/**
 * What the kernel tracer (agents/kernel/) measured of a server's requests over a span of time, in ms: the parts
 * before the handler that no in-process agent sees, and the handler's time split by the scheduler. Every mean is
 * over the requests it was measured on (`*_n`), which the counts say; a part nothing measured is null.
 */
export interface KernelRequests {
  /** Wall time covered, ms. */
  span_ms: number;
  /** Connections the tree accepted. */
  accepts: number;
  /**
   * Connections accepted before the trace began, picked up at their first answer (an established socket on a
   * listening port): the request in progress then is counted, not timed; the next ones are timed as any other's.
   */
  adopted: number;
  /**
   * Outgoing connections the server opened before the trace began (an established TCP socket on a port it does not
   * listen on), picked up at their first write: their calls are timed from then on, as those on connections it opens.
   */
  adopted_calls: number;
  /** Requests timed from their first read to their answer's first write. */
  requests: number;
  /** Responses written that began with `HTTP/`: pipelined requests answered after one read count here too. */
  responses: number;
  /** Connections left untimed because the server's first write was not HTTP/1.x (TLS, HTTP/2). */
  not_http: number;
  /** Handshake done -> accepted, mean ms over `accept_queue_n` connections (those whose handshake was seen). */
  accept_queue_ms: number | null;
  accept_queue_n: number;
  /** Request bytes arrived (or accepted, if later) -> the server's first read of them, mean ms. */
  server_queue_ms: number | null;
  server_queue_n: number;
  /** First read -> first write of the answer, mean and max ms: the whole handler, its stages not told apart. */
  server_ms: number | null;
  server_max_ms: number | null;
  /** First -> last write of an answer, mean ms. */
  send_ms: number | null;
  send_n: number;
  /**
   * The server time of requests served by a thread that had no other request open (not an event loop), split by
   * three independent kernel measures: on CPU (timed between sched_switch in and out), waiting for a CPU (schedstat
   * run_delay) and blocked (sched_switch in a sleeping state -> sched_wakeup). Means over `split_n` requests, whose own server time
   * is `split_server_ms`; the three need not add up to it exactly, which is the check.
   */
  split_n: number;
  split_server_ms: number | null;
  oncpu_ms: number | null;
  runqueue_ms: number | null;
  blocked_ms: number | null;
  /**
   * Calls the server made on connections it opened (connect()), each timed from its first write to the reply's
   * first bytes on the socket (`upstream_ms`: the other side's time, the network's included) and from those bytes to
   * the server's first read of them (`reply_wait_ms`: the reply waiting for its thread or its event loop). Together
   * they are what an in-process agent sees as `downstream`. Means over `calls`.
   */
  calls: number;
  upstream_ms: number | null;
  reply_wait_ms: number | null;
  /**
   * Lines of the tracer's output that bpftrace could not read off its ring buffer (a host too busy to read them),
   * and the intervals left out of the frames for them: the totals above still hold everything, since the program's
   * sums are never cleared and a later print brings them up to date.
   */
  lost_prints: number;
  intervals_lost: number;
}
