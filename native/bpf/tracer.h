/*
 * What the kernel half (tracer.bpf.c) and the loader (loader.c) of the libbpf kernel tracer share: the per-CPU sums
 * the loader prints as bpftrace's program does (agents/kernel/tracer-program.ts names them; tracer-output.ts reads
 * them), and the sizes of the tables.
 */
#ifndef SRVLENS_TRACER_H
#define SRVLENS_TRACER_H

/* The server-time histogram (tracer-program.ts's DURATION_SCALE 3): bucket i holds index i - DUR_OFFSET, from a
 * server time of 2^-30 s (index -240) to the 60 s clamp (index 47). */
#define DUR_OFFSET 240
#define DUR_BUCKETS 288
/* The interval's longest server time is kept for the last MAX_SLOTS intervals, slot = interval index % MAX_SLOTS. */
#define MAX_SLOTS 4

/* PER_CPU_SUMS' tuples, in their order there. */
enum { KR_SQ_N, KR_SQ_NS, KR_SEND_N, KR_SEND_NS, KR_UP_N, KR_UP_NS, KR_OW_NS, KR_LEN };
enum { KS_SRV_NS, KS_SPLIT_N, KS_SPLIT_SRV_NS, KS_ONCPU_NS, KS_RQ_NS, KS_BLK_NS, KS_LEN };
enum { KW_RESP, KW_NOTHTTP, KW_ADOPTED, KW_ADOPTED_OUT, KW_LEN };

struct srv_max {
  unsigned long long index; /* the interval this slot is of */
  unsigned long long ns;
};

/* One CPU's running sums: never cleared, the reader sums them over CPUs and takes differences. */
struct sums {
  unsigned long long accepts, aq_n, aq_ns;
  unsigned long long kr[KR_LEN];
  unsigned long long ks[KS_LEN];
  unsigned long long kw[KW_LEN];
  unsigned long long dur[DUR_BUCKETS];
  struct srv_max max[MAX_SLOTS];
  /* Requests begun on a thread of their own with the sched programs attached, and without: the loader's cue to
   * detach and attach them (tracer.bpf.c, sched_on). Not printed. */
  unsigned long long followed, unfollowed;
};

#endif
