// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The kernel tracer as a libbpf program: the same figures as the bpftrace program of agents/kernel/tracer-program.ts
 * (read its header for what is timed and why), at a fraction of its cost. What makes it cheaper (bench/README.md has
 * the measured figures):
 *   - no tracepoint on write, writev, sendto or close: a syscall tracepoint runs for every such call of every process
 *     on the host, the load generator's included, and a perf-attached one costs ~300 ns a call before its program
 *     does anything (bench/README.md, bench/syscall-cost.c: write(2) to /dev/null 553-743 ns plain, 849-1437 ns
 *     with a probe that ends at its PID test). A response's first bytes are read at
 *     tcp:tcp_sendmsg_locked (TCP's own, with the socket and the user's buffer in hand), a connection's end is its
 *     state leaving ESTABLISHED by the server's close (sock:inet_sock_set_state), an outgoing connection its
 *     SYN_SENT. Only accept's exit is a syscall tracepoint (no other event has the accepted socket), and while one is
 *     attached every syscall of the host takes the traced path (getppid 507-622 ns plain, 585-672 ns with this
 *     program attached);
 *   - one struct per connection and one per thread, updated in place through the pointer one lookup returns (bpftrace
 *     0.17 keeps each field in a map of its own and updates nothing in place: a call for every read and every write);
 *   - the tree's PIDs, the threads with a request open and the ports worth a look are bitmaps in global data: the
 *     test most runs end at (the load generator's half of each request, a switch of a thread nobody follows) costs
 *     no call;
 *   - the sums are one per-CPU struct, added to in place;
 *   - BTF tracepoints (tp_btf): no trace record is built before the program runs, and its arguments are the
 *     kernel's own pointers.
 * Tracepoints only: this kernel has no kprobes, and fentry/fexit fail to load with EPERM
 * (../../../shared/PLATFORM.md; bpftrace says "kfunc/kretfunc not available").
 *
 * Where it differs from the bpftrace program: a response's prefix is read from any send on the socket (write,
 * writev, send, sendmsg) that reaches TCP, a server time ends as its answer's first bytes reach TCP (bpftrace's at
 * the return of that write), outgoing connections are TCP's only (from SYN_SENT, not connect()), and a
 * connection ends at the server's close or shutdown(SHUT_WR) (FIN_WAIT1, LAST_ACK) or a reset (CLOSE), not at close(2)
 * of a descriptor (a socket shared by two descriptors ends once, at the last).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tracer.h"

/* The project's MIT, and GPL for the kernel's GPL-only helpers (bpf_probe_read_*, the tp_btf attach). */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the loader before the program is loaded. */
const volatile __u64 interval_ns = 1000000000;

/*
 * The sched programs (on_switch, on_wakeup) run at every context switch and wake-up of every thread on the host, and
 * split only the requests of a thread that serves one at a time. The loader attaches them while such requests come
 * (sums' `unfollowed` moves while they are off) and detaches them once none has for a while (`followed` stops): an
 * event loop's threads are soon shared and never followed, and an idle server follows nothing. A request is split
 * only when the programs were attached from its read to its answer: sched_on at both ends, the same sched_epoch
 * (bumped by the loader at each attach, so 0 is never a live one).
 */
volatile __u32 sched_on;
volatile __u32 sched_epoch;

/* Bitmaps over PIDs and thread ids (PID_MAX_LIMIT is 2^22) and over ports, written by the loader and the program. */
#define ID_WORDS (1 << 16)
#define PORT_WORDS (1 << 10)
__u64 tree_bits[ID_WORDS];     /* the traced processes (by tgid) */
__u64 start_bits[ID_WORDS];    /* those there at the start: only they can hold connections opened before it */
__u64 inreq_bits[ID_WORDS];    /* threads with a request open, to follow across sched_switch */
__u64 asleep_bits[ID_WORDS];   /* those of them switched away asleep, to time until their wake-up */
__u64 listen_bits[PORT_WORDS]; /* the tree's listening ports at the start: the handshakes timed */
/* Local ports of the sockets worth a lookup: listening ports (an accepted connection's is its listener's), the
 * tree's other connections open at the start (the loader's --open-ports) and the outgoing ones it opens since (a port
 * set stays set: a stale one costs a lookup that finds nothing). Every socket program tests it first, before any
 * helper call: on this host a program that ends at the PID test (a helper call) cost ~150-210 ns a run, one that ends
 * at this test ~110 (bench/README.md), and most runs are of other processes' sockets. */
__u64 look_bits[PORT_WORDS];

static __always_inline bool bit(__u64 *bits, __u32 words, __u32 i) {
  return (bits[(i >> 6) & (words - 1)] >> (i & 63)) & 1;
}
static __always_inline void set_bit(__u64 *bits, __u32 words, __u32 i) {
  __sync_fetch_and_or(&bits[(i >> 6) & (words - 1)], 1ULL << (i & 63));
}
static __always_inline void clear_bit(__u64 *bits, __u32 words, __u32 i) {
  __sync_fetch_and_and(&bits[(i >> 6) & (words - 1)], ~(1ULL << (i & 63)));
}
#define ID_BIT(b, i) bit(b, ID_WORDS, i)
#define PORT_BIT(b, i) bit(b, PORT_WORDS, i)

/* What a connection's first answer said it is (tracer-program.ts's IS_HTTP, NOT_HTTP). */
#define IS_HTTP 1
#define NOT_HTTP 2
/* The TCP states of include/net/tcp_states.h. */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_LAST_ACK 9
#define AF_INET 2
#define AF_INET6 10
/* task_struct's sleeping state bits (S, D, T, t, X, Z, P): a task switched away in one of them is blocked. */
#define SLEEPING_STATES 0x7f
/* "HTTP" as the first four bytes of a write, read as a little-endian 32-bit number. */
#define HTTP_LE 0x50545448
#define DURATION_CLAMP_NS 60000000000ULL

/* One TCP connection of the tree (or on one of its ports, before it is accepted), keyed by its struct sock. */
struct conn {
  __u64 est;       /* handshake done (softirq), until accepted */
  __u64 acc;       /* accepted at (1: adopted); 0: not accepted by the tree */
  __u64 arr;       /* the first bytes since the last read of them */
  __u64 rq;        /* the read that began the open request */
  __u64 rq_delay;  /* the reading thread's run_delay then */
  __u64 snd_first; /* the answer's first and last writes, until the next read closes it */
  __u64 snd_last;
  __u64 os;        /* outgoing: the call's first write, */
  __u64 oa;        /* and its reply's first bytes */
  __u32 rq_tid;
  __u32 send_end;  /* where the last send ends in the byte sequence (tcp_sendmsg_locked runs once a segment) */
  __u8 http;
  __u8 out;        /* a connection the tree opened */
  __u8 sending;    /* send_end is set */
};

/* One thread of the tree that has read a request. */
struct thread {
  __s64 open; /* its requests open */
  __u64 oc;   /* on CPU since its request began, to its last switch away */
  __u64 on;   /* its last switch in */
  __u64 blk;  /* blocked since its request began */
  __u64 bs;   /* switched away asleep at */
  __u32 shared;
  __u32 epoch; /* the sched_epoch its request began in; 0: not followed */
};

/* LRU: a connection whose end the program never saw is evicted in time, not kept forever. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct conn);
} conns SEC(".maps");

/* LRU as well: a thread that exits leaves its entry, and a reused tid must not inherit `shared`. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct thread);
} threads SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sums);
} sums SEC(".maps");

static __always_inline struct sums *my_sums(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&sums, &zero);
}

static __always_inline __u32 current_tgid(void) { return bpf_get_current_pid_tgid() >> 32; }

/* A connection's entry, made empty when there is none yet (or null when the map is full and nothing can be evicted). */
static __always_inline struct conn *new_conn(__u64 key) {
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (c) return c;
  struct conn n = {};
  bpf_map_update_elem(&conns, &key, &n, BPF_NOEXIST);
  return bpf_map_lookup_elem(&conns, &key);
}

/* The thread's request has ended, or its connection: it is followed no more when none is open. */
static __always_inline void request_done(struct thread *t, __u32 tid) {
  if (t->shared) return;
  if (--t->open <= 0) {
    t->open = 0;
    clear_bit(inreq_bits, ID_WORDS, tid);
  }
}

/* The server time's bucket: floor(8 log2(v s)) with v in 2^-30 s, by the top bit and which eighth of the octave. */
static __always_inline __u32 duration_bucket(__u64 ns) {
  __u64 u = (ns > DURATION_CLAMP_NS ? DURATION_CLAMP_NS : ns) * 134217728 / 125000000;
  if (u == 0) u = 1;
  __u64 x = u, b = 0;
#define TOP(n) if (x >= (1ULL << n)) { x >>= n; b += n; }
  TOP(32) TOP(16) TOP(8) TOP(4) TOP(2) TOP(1)
  __u64 f = b >= 16 ? u >> (b - 16) : u << (16 - b);
  __u32 j = (f >= 71468) + (f >= 77936) + (f >= 84990) + (f >= 92682) + (f >= 101071) + (f >= 110218) + (f >= 120194);
  return b * 8 + j;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) {
  if (ID_BIT(tree_bits, parent->tgid)) set_bit(tree_bits, ID_WORDS, child->tgid);
  return 0;
}

/* The connection is over for the server: its last answer's send ends, and the request open on it, if any. */
static __always_inline void ended(__u64 key) {
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return;
  if (c->acc) {
    struct sums *s = my_sums();
    if (s && c->snd_first) {
      // Atomic: a reset ends a connection in softirq, which may interrupt a program adding to this CPU's sums.
      __sync_fetch_and_add(&s->kr[KR_SEND_N], 1);
      __sync_fetch_and_add(&s->kr[KR_SEND_NS], c->snd_last - c->snd_first);
    }
    if (c->rq) {
      __u32 tid = c->rq_tid;
      struct thread *t = bpf_map_lookup_elem(&threads, &tid);
      if (t) request_done(t, tid);
    }
  }
  bpf_map_delete_elem(&conns, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, const struct sock *sk, const int oldstate, const int newstate) {
  __u16 port = sk->__sk_common.skc_num;
  __u64 key = (__u64)sk;
  if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
    // In softirq: a handshake done on a listening port of the tree, to be accepted.
    if (!PORT_BIT(listen_bits, port)) return 0;
    struct conn c = {.est = bpf_ktime_get_ns()};
    bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  } else if (newstate == TCP_SYN_SENT) {
    // In connect(), by the connecting process, before its local port is chosen: that is looked at once established.
    if (!ID_BIT(tree_bits, current_tgid())) return 0;
    struct conn c = {.out = 1};
    bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  } else if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
    if (bpf_map_lookup_elem(&conns, &key)) set_bit(look_bits, PORT_WORDS, port);
  } else if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK) {
    if (PORT_BIT(look_bits, port)) ended(key);
  } else if (newstate == TCP_CLOSE) {
    // Any port: a connect() refused never got its port looked at. Rare enough (a socket's end) to look up each.
    ended(key);
  }
  return 0;
}

/* The struct sock of the calling process's descriptor `fd`, or 0. */
static __always_inline struct sock *fd_sock(int fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct file **fdarr = BPF_CORE_READ(task, files, fdt, fd);
  struct file *file = 0;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fdarr[fd]) != 0 || file == 0) return 0;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  return sock ? BPF_CORE_READ(sock, sk) : 0;
}

static __always_inline int accepted(struct trace_event_raw_sys_exit *ctx) {
  int fd = ctx->ret;
  if (fd < 0 || !ID_BIT(tree_bits, current_tgid())) return 0;
  struct sock *sk = fd_sock(fd);
  struct sums *s = my_sums();
  if (!sk || !s) return 0;
  __u64 now = bpf_ktime_get_ns();
  struct conn *c = new_conn((__u64)sk);
  if (!c) return 0;
  s->accepts++;
  if (c->est) {
    s->aq_n++;
    s->aq_ns += now - c->est;
  }
  // Bytes that arrived before the accept stay: the first request waited from the accept on.
  __u64 arr = c->arr;
  __builtin_memset(c, 0, sizeof(*c));
  c->acc = now;
  c->arr = arr;
  set_bit(look_bits, PORT_WORDS, BPF_CORE_READ(sk, __sk_common.skc_num));
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx); }

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx); }

/* In softirq: any process may be current. The response before these bytes is closed (its last write) by the read. */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(on_data_ready, const struct sock *sk) {
  if (!PORT_BIT(look_bits, sk->__sk_common.skc_num)) return 0;
  __u64 key = (__u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  if (c->acc || c->est) {
    if (!c->arr) c->arr = bpf_ktime_get_ns();
  } else if (c->out && c->os && !c->oa) {
    c->oa = bpf_ktime_get_ns();
  }
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_recv, struct sock *sk, int ret, int flags) {
  if (ret <= 0 || !PORT_BIT(look_bits, sk->__sk_common.skc_num)) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ID_BIT(tree_bits, pid_tgid >> 32)) return 0;
  __u64 key = (__u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  if (c->acc) {
    __u64 arr = c->arr;
    if (!arr) return 0;
    struct sums *s = my_sums();
    if (!s) return 0;
    __u64 now = bpf_ktime_get_ns();
    c->arr = 0;
    if (c->snd_first) {
      s->kr[KR_SEND_N]++;
      s->kr[KR_SEND_NS] += c->snd_last - c->snd_first;
      c->snd_first = 0;
    }
    if (!c->rq && c->http != NOT_HTTP) {
      __u32 tid = pid_tgid;
      struct thread *t = bpf_map_lookup_elem(&threads, &tid);
      if (!t) {
        struct thread n = {};
        bpf_map_update_elem(&threads, &tid, &n, BPF_NOEXIST);
        t = bpf_map_lookup_elem(&threads, &tid);
        if (!t) return 0;
      }
      // Counted once the request can be timed: its wait and its server time stand for the same requests.
      s->kr[KR_SQ_N]++;
      s->kr[KR_SQ_NS] += now - (arr > c->acc ? arr : c->acc);
      if (!t->shared) {
        if (t->open > 0) {
          // A second request open on one thread (an event loop): its time is no one request's.
          t->shared = 1;
          t->open = 0;
          clear_bit(inreq_bits, ID_WORDS, tid);
        } else {
          t->open = 1;
          t->oc = 0;
          t->on = now;
          t->blk = 0;
          // Running, so not asleep: a sleep the sched programs saw begin before a detach never ended for them.
          t->bs = 0;
          clear_bit(asleep_bits, ID_WORDS, tid);
          t->epoch = sched_on ? sched_epoch : 0;
          if (t->epoch) s->followed++;
          else s->unfollowed++;
          set_bit(inreq_bits, ID_WORDS, tid);
        }
      }
      c->rq = now;
      c->rq_tid = tid;
      c->rq_delay = t->shared ? 0 : bpf_get_current_task_btf()->sched_info.run_delay;
    }
  } else if (c->out && c->oa) {
    struct sums *s = my_sums();
    if (!s) return 0;
    __u64 now = bpf_ktime_get_ns();
    s->kr[KR_UP_N]++;
    s->kr[KR_UP_NS] += c->oa - c->os;
    s->kr[KR_OW_NS] += now - c->oa;
    c->os = 0;
    c->oa = 0;
  }
  return 0;
}

/*
 * A connection the tree had before the trace began, adopted at its first send by a process there at the start: an
 * established TCP socket on a listening port is one it accepted, on another port one it opened (its calls are timed
 * from this send on); either is returned, to be looked at as any other.
 */
static __always_inline struct conn *adopt(const struct sock *sk, __u64 key) {
  __u16 family = sk->__sk_common.skc_family, port = sk->__sk_common.skc_num;
  if (sk->__sk_common.skc_state != TCP_ESTABLISHED || (family != AF_INET && family != AF_INET6)) return 0;
  struct sums *s = my_sums();
  struct conn *c = new_conn(key);
  if (!s || !c) return 0;
  if (PORT_BIT(listen_bits, port)) {
    c->acc = 1;
    s->kw[KW_ADOPTED]++;
    return c;
  }
  c->out = 1;
  set_bit(look_bits, PORT_WORDS, port);
  s->kw[KW_ADOPTED_OUT]++;
  return c;
}

/* The first four bytes of a send, when they are the user's (write, writev, send, sendmsg); else 0. */
static __always_inline __u32 head_of(const struct msghdr *msg) {
  const void *buf;
  __u8 type = msg->msg_iter.iter_type;
  if (type == ITER_UBUF) buf = msg->msg_iter.ubuf;
  else if (type == ITER_IOVEC) buf = msg->msg_iter.__iov->iov_base;
  else return 0;
  __u32 head = 0;
  bpf_probe_read_user(&head, sizeof(head), buf + msg->msg_iter.iov_offset);
  return head;
}

/*
 * A send on a connection of the tree, at TCP's own tracepoint: the user's buffer is in hand (a response's first bytes
 * say what it is), and no other program runs at the send (sock:sock_send_length at its return was one more run a
 * send, on every process's sockets: ~0.5 us of BPF a request on nginx, bench/README.md). The tracepoint runs once
 * for each segment a send fills, the user's iterator advanced past what the earlier ones took; a send's first run
 * is told from the others by where the send ends in the connection's byte sequence (write_seq, the next byte to be
 * queued, plus the bytes still to copy): the same for every run of one send, the next send's further on. A send cut
 * short (a non-blocking socket full) and retried with the rest ends where it did: it is the same send.
 *
 * The send that follows a request's read ends its server time, at its start: the answer's first bytes, written.
 */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(on_sendmsg, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb, int size_goal) {
  if (!PORT_BIT(look_bits, sk->__sk_common.skc_num)) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 pid = pid_tgid >> 32;
  if (!ID_BIT(tree_bits, pid)) return 0;
  __u64 key = (__u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) {
    if (!ID_BIT(start_bits, pid) || !(c = adopt(sk, key))) return 0;
  }
  struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
  if (!tp) return 0;
  __u32 end = tp->write_seq + (__u32)msg->msg_iter.count;
  __u64 now = bpf_ktime_get_ns();
  if (c->sending && c->send_end == end) {
    // A later segment of the same send.
    if (c->acc && c->snd_first) c->snd_last = now;
    return 0;
  }
  c->sending = 1;
  c->send_end = end;
  if (!c->acc) {
    if (c->out && !c->os) c->os = now;
    return 0;
  }
  struct sums *s = my_sums();
  if (!s) return 0;
  if (head_of(msg) == HTTP_LE) {
    s->kw[KW_RESP]++;
    c->http = IS_HTTP;
  } else if (!c->http) {
    c->http = NOT_HTTP;
    s->kw[KW_NOTHTTP]++;
  }
  if (!c->rq) {
    if (c->snd_first) c->snd_last = now;
    return 0;
  }
  __u64 srv = now - c->rq, k = now / interval_ns;
  struct srv_max *m = &s->max[k & (MAX_SLOTS - 1)];
  if (m->index != k) {
    m->index = k;
    m->ns = srv;
  } else if (srv > m->ns) {
    m->ns = srv;
  }
  __u32 b = duration_bucket(srv);
  if (b < DUR_BUCKETS) s->dur[b]++;
  s->ks[KS_SRV_NS] += srv;
  __u32 tid = pid_tgid, rq_tid = c->rq_tid;
  struct thread *t = bpf_map_lookup_elem(&threads, &rq_tid);
  if (t && !t->shared) {
    if (rq_tid == tid && t->epoch && sched_on && t->epoch == sched_epoch) {
      s->ks[KS_SPLIT_N]++;
      s->ks[KS_SPLIT_SRV_NS] += srv;
      s->ks[KS_ONCPU_NS] += t->oc + (now - t->on);
      s->ks[KS_RQ_NS] += bpf_get_current_task_btf()->sched_info.run_delay - c->rq_delay;
      s->ks[KS_BLK_NS] += t->blk;
    }
    request_done(t, rq_tid);
  }
  c->rq = 0;
  c->snd_first = now;
  c->snd_last = now;
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state) {
  __u32 p = prev->pid, n = next->pid;
  bool follow_prev = ID_BIT(inreq_bits, p), follow_next = ID_BIT(inreq_bits, n);
  if (!follow_prev && !follow_next) return 0;
  __u64 now = bpf_ktime_get_ns();
  if (follow_prev) {
    struct thread *t = bpf_map_lookup_elem(&threads, &p);
    if (t) {
      t->oc += now - t->on;
      if (!preempt && (prev_state & SLEEPING_STATES)) {
        t->bs = now;
        set_bit(asleep_bits, ID_WORDS, p);
      }
    }
  }
  if (follow_next) {
    struct thread *t = bpf_map_lookup_elem(&threads, &n);
    if (t) t->on = now;
  }
  return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p) {
  __u32 tid = p->pid;
  if (!ID_BIT(asleep_bits, tid)) return 0;
  clear_bit(asleep_bits, ID_WORDS, tid);
  struct thread *t = bpf_map_lookup_elem(&threads, &tid);
  if (t && t->bs) {
    t->blk += bpf_ktime_get_ns() - t->bs;
    t->bs = 0;
  }
  return 0;
}
