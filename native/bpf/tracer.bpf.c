// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel tracer as a libbpf program: the same figures as the bpftrace program of agents/kernel/tracer-program.ts
 * (read its header for what is timed from which tracepoint, and why), at a fraction of its cost. What makes it cheaper
 * (bench/README.md has the measured figures):
 *   - one struct per connection and one per thread, updated in place through the pointer a lookup returns (bpftrace
 *     0.17 keeps each field in a map of its own and updates nothing in place: a call for every read and every write);
 *   - the tree's PIDs, the threads with a request open and the ports worth a look are bitmaps in global data: the
 *     test most runs end at (a write by the load generator, a switch of a thread nobody follows) costs no call;
 *   - the sums are one per-CPU struct, added to in place;
 *   - BTF tracepoints (tp_btf) for the sock and sched events: no trace record is built before the program runs, and
 *     its arguments are the kernel's own pointers. The syscalls are classic tracepoints (they have no tp_btf of their
 *     own; raw_syscalls would run at every syscall of the host).
 * Tracepoints only: this kernel has no kprobe_events (../../../shared/PLATFORM.md).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tracer.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before the program is loaded. */
const volatile __u64 interval_ns = 1000000000;

/* Bitmaps over PIDs and thread ids (PID_MAX_LIMIT is 2^22) and over ports, written by the loader and the program. */
#define ID_WORDS (1 << 16)
#define PORT_WORDS (1 << 10)
__u64 tree_bits[ID_WORDS];     /* the traced processes (by tgid) */
__u64 start_bits[ID_WORDS];    /* those there at the start: only they can hold connections opened before it */
__u64 inreq_bits[ID_WORDS];    /* threads with a request open, to follow across sched_switch */
__u64 asleep_bits[ID_WORDS];   /* those of them switched away asleep, to time until their wake-up */
__u64 listen_bits[PORT_WORDS]; /* the tree's listening ports at the start: the handshakes timed */
/* Local ports of the sockets worth a lookup in softirq: listening ports, accepted and outgoing connections' (a port
 * set stays set: a stale one costs a lookup that finds nothing). */
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
#define TCP_ESTABLISHED 1
#define TCP_SYN_RECV 3
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 0xf000
#define S_IFSOCK 0xc000
#define EINPROGRESS 115
/* task_struct's sleeping state bits (S, D, T, t, X, Z, P): a task switched away in one of them is blocked. */
#define SLEEPING_STATES 0x7f
/* "HTTP" as the first four bytes of a write, read as a little-endian 32-bit number. */
#define HTTP_LE 0x50545448
#define DURATION_CLAMP_NS 60000000000ULL

/* One connection, keyed by its struct sock. */
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
  __u32 http;
  __u32 out;       /* a connection the tree opened */
};

/* One thread of the tree that has read a request. */
struct thread {
  __s64 open; /* its requests open */
  __u64 oc;   /* on CPU since its request began, to its last switch away */
  __u64 on;   /* its last switch in */
  __u64 blk;  /* blocked since its request began */
  __u64 bs;   /* switched away asleep at */
  __u32 shared;
};

/* What a descriptor of the tree is. */
#define FD_IN 1
#define FD_OUT 2
struct fd_key {
  __u32 pid;
  __s32 fd;
};
struct fd_val {
  __u64 sk;
  __u32 kind;
  __u32 http; /* the connection's verdict, kept here too: the write needs no connection lookup */
};

/* LRU: a connection whose close the program never saw (its process exited) is evicted in time, not kept forever. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct conn);
} conns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct fd_key);
  __type(value, struct fd_val);
} fds SEC(".maps");

/* Descriptors of the start processes found not to be a connection: not looked at again until closed. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct fd_key);
  __type(value, __u8);
} nosk SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct thread);
} threads SEC(".maps");

/* connect()'s descriptor, from its entry to its exit, by thread. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __s32);
} connecting SEC(".maps");

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

/* The struct sock of the calling process's descriptor `fd`, or 0 when it is no socket. */
static __always_inline struct sock *fd_sock(int fd, bool check_socket) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct file **fdarr = BPF_CORE_READ(task, files, fdt, fd);
  struct file *file = 0;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fdarr[fd]) != 0 || file == 0) return 0;
  if (check_socket && (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK) return 0;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  return sock ? BPF_CORE_READ(sock, sk) : 0;
}

/* The thread's request has ended, or its connection closed: it is followed no more when none is open. */
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

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, const struct sock *sk, const int oldstate, const int newstate) {
  if (newstate != TCP_ESTABLISHED || oldstate != TCP_SYN_RECV || !PORT_BIT(listen_bits, sk->__sk_common.skc_num)) return 0;
  __u64 key = (__u64)sk;
  struct conn c = {.est = bpf_ktime_get_ns()};
  bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  return 0;
}

static __always_inline int accepted(struct trace_event_raw_sys_exit *ctx) {
  __u32 pid = current_tgid();
  int fd = ctx->ret;
  if (fd < 0 || !ID_BIT(tree_bits, pid)) return 0;
  struct sock *sk = fd_sock(fd, false);
  struct sums *s = my_sums();
  if (!sk || !s) return 0;
  __u64 now = bpf_ktime_get_ns(), key = (__u64)sk;
  s->accepts++;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (c) {
    if (c->est) {
      s->aq_n++;
      s->aq_ns += now - c->est;
    }
    __u64 arr = c->arr;
    __builtin_memset(c, 0, sizeof(*c));
    c->acc = now;
    c->arr = arr;
  } else {
    struct conn n = {.acc = now};
    bpf_map_update_elem(&conns, &key, &n, BPF_ANY);
  }
  set_bit(look_bits, PORT_WORDS, BPF_CORE_READ(sk, __sk_common.skc_num));
  struct fd_key k = {.pid = pid, .fd = fd};
  struct fd_val v = {.sk = key, .kind = FD_IN};
  bpf_map_update_elem(&fds, &k, &v, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx); }

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept(struct trace_event_raw_sys_exit *ctx) { return accepted(ctx); }

SEC("tracepoint/syscalls/sys_enter_connect")
int on_connect_enter(struct trace_event_raw_sys_enter *ctx) {
  if (!ID_BIT(tree_bits, current_tgid())) return 0;
  __u32 tid = bpf_get_current_pid_tgid();
  __s32 fd = ctx->args[0];
  bpf_map_update_elem(&connecting, &tid, &fd, BPF_ANY);
  return 0;
}

/* An outgoing connection of the tree: its calls are timed from here on. */
static __always_inline void outgoing(struct sock *sk, __u32 pid, int fd) {
  __u64 key = (__u64)sk;
  struct conn c = {.out = 1};
  bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
  struct fd_key k = {.pid = pid, .fd = fd};
  struct fd_val v = {.sk = key, .kind = FD_OUT};
  bpf_map_update_elem(&fds, &k, &v, BPF_ANY);
  set_bit(look_bits, PORT_WORDS, BPF_CORE_READ(sk, __sk_common.skc_num));
}

SEC("tracepoint/syscalls/sys_exit_connect")
int on_connect_exit(struct trace_event_raw_sys_exit *ctx) {
  __u32 tid = bpf_get_current_pid_tgid();
  __s32 *fd = bpf_map_lookup_elem(&connecting, &tid);
  if (!fd) return 0;
  if (ctx->ret == 0 || ctx->ret == -EINPROGRESS) {
    struct sock *sk = fd_sock(*fd, false);
    if (sk) outgoing(sk, current_tgid(), *fd);
  }
  bpf_map_delete_elem(&connecting, &tid);
  return 0;
}

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
  if (ret <= 0) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ID_BIT(tree_bits, pid_tgid >> 32) || !PORT_BIT(look_bits, sk->__sk_common.skc_num)) return 0;
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
      s->kr[KR_SQ_N]++;
      s->kr[KR_SQ_NS] += now - (arr > c->acc ? arr : c->acc);
      struct thread *t = bpf_map_lookup_elem(&threads, &tid);
      if (!t) {
        struct thread n = {};
        bpf_map_update_elem(&threads, &tid, &n, BPF_NOEXIST);
        t = bpf_map_lookup_elem(&threads, &tid);
        if (!t) return 0;
      }
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

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_send, struct sock *sk, int ret, int flags) {
  if (ret <= 0) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!ID_BIT(tree_bits, pid_tgid >> 32) || !PORT_BIT(look_bits, sk->__sk_common.skc_num)) return 0;
  __u64 key = (__u64)sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  __u64 now = bpf_ktime_get_ns();
  if (c->acc) {
    if (c->rq) {
      struct sums *s = my_sums();
      if (!s) return 0;
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
        if (rq_tid == tid) {
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
    } else if (c->snd_first) {
      c->snd_last = now;
    }
  } else if (c->out && !c->os) {
    c->os = now;
  }
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

/*
 * A connection accepted before the trace began, adopted at its first answer: an established TCP socket on a
 * listening port, found from the fd. An established TCP socket on another port is one the tree opened itself.
 * Returns the fds entry of an adopted incoming connection.
 */
static __always_inline struct fd_val *adopt(struct fd_key *k) {
  if (bpf_map_lookup_elem(&nosk, k)) return 0;
  struct sock *sk = fd_sock(k->fd, true);
  if (sk) {
    __u16 port = BPF_CORE_READ(sk, __sk_common.skc_num), family = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_ESTABLISHED && (family == AF_INET || family == AF_INET6)) {
      struct sums *s = my_sums();
      if (!s) return 0;
      __u64 key = (__u64)sk;
      if (PORT_BIT(listen_bits, port)) {
        struct conn c = {.acc = 1};
        bpf_map_update_elem(&conns, &key, &c, BPF_ANY);
        struct fd_val v = {.sk = key, .kind = FD_IN};
        bpf_map_update_elem(&fds, k, &v, BPF_ANY);
        s->kw[KW_ADOPTED]++;
        return bpf_map_lookup_elem(&fds, k);
      }
      struct conn *c = bpf_map_lookup_elem(&conns, &key);
      if (!c || !c->out) {
        outgoing(sk, k->pid, k->fd);
        s->kw[KW_ADOPTED_OUT]++;
        return 0;
      }
    }
  }
  __u8 one = 1;
  bpf_map_update_elem(&nosk, k, &one, BPF_ANY);
  return 0;
}

/* The tree's writes to a connection it accepted: "HTTP" first counts a response, and the first answer says what the connection is. */
static __always_inline void wrote(int fd, const void *buf) {
  __u32 pid = current_tgid();
  if (!ID_BIT(tree_bits, pid)) return;
  struct fd_key k = {.pid = pid, .fd = fd};
  struct fd_val *v = bpf_map_lookup_elem(&fds, &k);
  if (!v) {
    if (!ID_BIT(start_bits, pid)) return;
    v = adopt(&k);
    if (!v) return;
  }
  if (v->kind != FD_IN) return;
  __u32 head = 0;
  bpf_probe_read_user(&head, sizeof(head), buf);
  __u32 verdict;
  struct sums *s = my_sums();
  if (!s) return;
  if (head == HTTP_LE) {
    s->kw[KW_RESP]++;
    if (v->http == IS_HTTP) return;
    verdict = IS_HTTP;
  } else {
    if (v->http) return;
    verdict = NOT_HTTP;
    s->kw[KW_NOTHTTP]++;
  }
  v->http = verdict;
  struct conn *c = bpf_map_lookup_elem(&conns, &v->sk);
  if (c) c->http = verdict;
}

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(struct trace_event_raw_sys_enter *ctx) {
  wrote(ctx->args[0], (const void *)ctx->args[1]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int on_sendto(struct trace_event_raw_sys_enter *ctx) {
  wrote(ctx->args[0], (const void *)ctx->args[1]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int on_writev(struct trace_event_raw_sys_enter *ctx) {
  // The tree test before the iovec is read: most writev on the host are not the tree's.
  if (!ID_BIT(tree_bits, current_tgid())) return 0;
  struct iovec iov = {};
  bpf_probe_read_user(&iov, sizeof(iov), (const void *)ctx->args[1]);
  wrote(ctx->args[0], iov.iov_base);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int on_close(struct trace_event_raw_sys_enter *ctx) {
  __u32 pid = current_tgid();
  if (!ID_BIT(tree_bits, pid)) return 0;
  struct fd_key k = {.pid = pid, .fd = ctx->args[0]};
  if (ID_BIT(start_bits, pid)) bpf_map_delete_elem(&nosk, &k);
  struct fd_val *v = bpf_map_lookup_elem(&fds, &k);
  if (!v) return 0;
  __u64 key = v->sk;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (c && v->kind == FD_IN) {
    struct sums *s = my_sums();
    if (s && c->snd_first) {
      s->kr[KR_SEND_N]++;
      s->kr[KR_SEND_NS] += c->snd_last - c->snd_first;
    }
    if (c->rq) {
      __u32 tid = c->rq_tid;
      struct thread *t = bpf_map_lookup_elem(&threads, &tid);
      if (t) request_done(t, tid);
    }
  }
  if (c) bpf_map_delete_elem(&conns, &key);
  bpf_map_delete_elem(&fds, &k);
  return 0;
}
