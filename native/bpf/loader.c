/*
 * srvlens-ktrace: loads tracer.bpf.c (its skeleton, built by build.sh), seeds it with the traced tree, and at each
 * boundary of the interval grid prints the running sums in the JSON lines bpftrace's program prints
 * (`bpftrace -f json`), so that agents/kernel/tracer-output.ts reads either the same way.
 *
 *   srvlens-ktrace --interval-ms N --pids P[,P...] [--ports N[,N...]] [--open-ports N[,N...]]
 *
 * --ports: the tree's listening ports; --open-ports: the local ports of its other TCP connections now (those it
 * opened before the trace: their calls are picked up at their next send).
 *
 * It attaches the sched programs only while a thread of the tree serves one request at a time (sched_follow), and
 * ends at SIGINT or SIGTERM (printing the sums once more, then "srvlens-end"), and when its parent does.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "tracer.h"
#include "tracer.skel.h"

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static unsigned long long mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args) {
  return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

static void set_id(unsigned long long *bits, unsigned long words, unsigned long i) {
  bits[(i >> 6) % words] |= 1ULL << (i & 63);
}

/* A comma-separated list of numbers, each set in `bits` (and `also`, when given). */
static int parse_list(const char *arg, unsigned long max, unsigned long long *bits, unsigned long words, unsigned long long *also) {
  char *copy = strdup(arg), *save = NULL;
  if (!copy) {
    fprintf(stderr, "srvlens-ktrace: no memory for the list '%s'\n", arg);
    exit(1);
  }
  int n = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *end;
    unsigned long v = strtoul(tok, &end, 10);
    if (*end || v == 0 || v >= max) {
      fprintf(stderr, "srvlens-ktrace: '%s' is not a number below %lu\n", tok, max);
      exit(2);
    }
    set_id(bits, words, v);
    if (also) set_id(also, words, v);
    n++;
  }
  free(copy);
  return n;
}

/*
 * The sched programs, attached while threads that serve one request at a time come (tracer.bpf.c, sched_on): on
 * when a request began unfollowed since the last look, off once none was followed for SCHED_IDLE_NS.
 */
#define SCHED_IDLE_NS 2000000000ULL
struct sched_state {
  int on;
  unsigned long long followed, unfollowed, moved_at;
};

static int sched_attach(struct srvlens_tracer *skel) {
  skel->links.on_switch = bpf_program__attach(skel->progs.on_switch);
  skel->links.on_wakeup = skel->links.on_switch ? bpf_program__attach(skel->progs.on_wakeup) : NULL;
  if (!skel->links.on_wakeup) {
    int err = -errno;
    bpf_link__destroy(skel->links.on_switch);
    skel->links.on_switch = NULL;
    return err;
  }
  // Attached first, then said: a request that sees sched_on began with every switch of its thread seen.
  skel->bss->sched_epoch++;
  __atomic_store_n(&skel->bss->sched_on, 1, __ATOMIC_RELEASE);
  return 0;
}

static void sched_detach(struct srvlens_tracer *skel) {
  // Said first, then detached: a request answered from here on is not split.
  __atomic_store_n(&skel->bss->sched_on, 0, __ATOMIC_RELEASE);
  bpf_link__destroy(skel->links.on_wakeup);
  bpf_link__destroy(skel->links.on_switch);
  skel->links.on_wakeup = skel->links.on_switch = NULL;
}

struct totals {
  struct sums s;
  /* per slot: the interval it is of (the highest any CPU has seen) and its longest server time there */
  unsigned long long max_index[MAX_SLOTS], max_ns[MAX_SLOTS];
};

static int read_sums(int map_fd, int ncpus, struct sums *percpu, struct totals *t) {
  unsigned int zero = 0;
  if (bpf_map_lookup_elem(map_fd, &zero, percpu) != 0) return -errno;
  memset(t, 0, sizeof(*t));
  for (int c = 0; c < ncpus; c++) {
    const struct sums *s = &percpu[c];
    t->s.accepts += s->accepts;
    t->s.aq_n += s->aq_n;
    t->s.aq_ns += s->aq_ns;
    for (int i = 0; i < KR_LEN; i++) t->s.kr[i] += s->kr[i];
    for (int i = 0; i < KS_LEN; i++) t->s.ks[i] += s->ks[i];
    for (int i = 0; i < KW_LEN; i++) t->s.kw[i] += s->kw[i];
    for (int i = 0; i < DUR_BUCKETS; i++) t->s.dur[i] += s->dur[i];
    t->s.followed += s->followed;
    t->s.unfollowed += s->unfollowed;
    for (int i = 0; i < MAX_SLOTS; i++) {
      const struct srv_max *m = &s->max[i];
      if (m->index > t->max_index[i]) {
        t->max_index[i] = m->index;
        t->max_ns[i] = m->ns;
      } else if (m->index == t->max_index[i] && m->ns > t->max_ns[i]) {
        t->max_ns[i] = m->ns;
      }
    }
  }
  return 0;
}

static void print_tuple(const char *name, const unsigned long long *v, int n) {
  printf("{\"type\": \"map\", \"data\": {\"@%s\": {\"0\": [", name);
  for (int i = 0; i < n; i++) printf(i ? ", %llu" : "%llu", v[i]);
  printf("]}}}\n");
}

/* Everything as bpftrace's program prints it at a boundary (tracer-program.ts: AGGREGATES, PER_CPU_SUMS, PER_INTERVAL,
 * DURATION_MAP), interval `k` being the one now begun. */
static void print_sums(const struct totals *t, unsigned long long k) {
  printf("{\"type\": \"map\", \"data\": {\"@accepts\": %llu}}\n", t->s.accepts);
  printf("{\"type\": \"map\", \"data\": {\"@aq_n\": %llu}}\n", t->s.aq_n);
  printf("{\"type\": \"map\", \"data\": {\"@aq_ns\": %llu}}\n", t->s.aq_ns);
  print_tuple("kr", t->s.kr, KR_LEN);
  print_tuple("ks", t->s.ks, KS_LEN);
  print_tuple("kw", t->s.kw, KW_LEN);
  printf("{\"type\": \"map\", \"data\": {\"@srv_max_ns\": {");
  const char *sep = "";
  for (int i = 0; i < MAX_SLOTS; i++) {
    unsigned long long idx = t->max_index[i];
    if (t->max_ns[i] == 0 || idx + 2 < k || idx > k) continue;
    printf("%s\"%llu\": %llu", sep, idx, t->max_ns[i]);
    sep = ", ";
  }
  printf("}}}\n");
  printf("{\"type\": \"map\", \"data\": {\"@dur\": {");
  sep = "";
  for (int i = 0; i < DUR_BUCKETS; i++) {
    if (t->s.dur[i] == 0) continue;
    printf("%s\"%d\": %llu", sep, i - DUR_OFFSET, t->s.dur[i]);
    sep = ", ";
  }
  printf("}}}\n");
}

/* At each look (every 200 ms at least): the sched programs on or off, as sched_state says. */
static int sched_follow(struct srvlens_tracer *skel, struct sched_state *st, const struct sums *s, unsigned long long now) {
  if (s->followed != st->followed) st->moved_at = now;
  if (st->on && now - st->moved_at >= SCHED_IDLE_NS) {
    sched_detach(skel);
    st->on = 0;
  } else if (!st->on && s->unfollowed != st->unfollowed) {
    int err = sched_attach(skel);
    if (err) {
      fprintf(stderr, "srvlens-ktrace: attaching the sched programs failed: %s\n", strerror(-err));
      return -1;
    }
    st->on = 1;
    st->moved_at = now;
  }
  st->followed = s->followed;
  st->unfollowed = s->unfollowed;
  return 0;
}

int main(int argc, char **argv) {
  unsigned long long interval_ms = 0;
  const char *pids = NULL, *ports = NULL, *open_ports = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--interval-ms")) interval_ms = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--pids")) pids = argv[i + 1];
    else if (!strcmp(argv[i], "--ports")) ports = argv[i + 1];
    else if (!strcmp(argv[i], "--open-ports")) open_ports = argv[i + 1];
  }
  if (interval_ms == 0 || pids == NULL) {
    fprintf(stderr, "usage: srvlens-ktrace --interval-ms N --pids P[,P...] [--ports N[,N...]] [--open-ports N[,N...]]\n");
    return 2;
  }
  pid_t owner = getppid();
  // Ends with the process that reads it, however that ends.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != owner) return 0;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  libbpf_set_print(print_libbpf);

  struct srvlens_tracer *skel = srvlens_tracer__open();
  if (!skel) {
    fprintf(stderr, "srvlens-ktrace: opening the BPF object failed: %s\n", strerror(errno));
    return 1;
  }
  skel->rodata->interval_ns = interval_ms * 1000000ULL;
  int err = srvlens_tracer__load(skel);
  if (err) {
    fprintf(stderr, "srvlens-ktrace: loading the BPF programs failed: %s\n", strerror(-err));
    return 1;
  }
  // Seeded before attaching, so the first event already sees the tree.
  const unsigned long id_words = sizeof(skel->bss->tree_bits) / 8, port_words = sizeof(skel->bss->listen_bits) / 8;
  parse_list(pids, id_words * 64, skel->bss->tree_bits, id_words, skel->bss->start_bits);
  if (ports && *ports) parse_list(ports, port_words * 64, skel->bss->listen_bits, port_words, skel->bss->look_bits);
  if (open_ports && *open_ports) parse_list(open_ports, port_words * 64, skel->bss->look_bits, port_words, NULL);
  bpf_program__set_autoattach(skel->progs.on_switch, false);
  bpf_program__set_autoattach(skel->progs.on_wakeup, false);
  err = srvlens_tracer__attach(skel);
  if (!err) err = sched_attach(skel);
  if (err) {
    fprintf(stderr, "srvlens-ktrace: attaching the BPF programs failed: %s\n", strerror(-err));
    return 1;
  }
  struct sched_state sched = {.on = 1, .moved_at = mono_ns()};

  int ncpus = libbpf_num_possible_cpus();
  struct sums *percpu = ncpus > 0 ? calloc(ncpus, sizeof(struct sums)) : NULL;
  if (!percpu) {
    fprintf(stderr, "srvlens-ktrace: no memory for the sums of %d CPUs\n", ncpus);
    return 1;
  }
  struct totals t;
  int map_fd = bpf_map__fd(skel->maps.sums);
  const unsigned long long interval_ns = interval_ms * 1000000ULL;
  printf("{\"type\": \"printf\", \"data\": \"srvlens-ready\\n\"}\n");
  fflush(stdout);

  // The interval begun last: a boundary is printed once the clock is past it, however late the sleep woke (a late
  // wake-up prints the boundary late, as bpftrace's program does, never skips it).
  unsigned long long last = mono_ns() / interval_ns;
  while (!stopping && getppid() == owner) {
    unsigned long long next = (last + 1) * interval_ns, now = mono_ns();
    if (read_sums(map_fd, ncpus, percpu, &t) != 0) {
      fprintf(stderr, "srvlens-ktrace: reading the sums failed: %s\n", strerror(errno));
      return 1;
    }
    if (sched_follow(skel, &sched, &t.s, now) != 0) return 1;
    if (now < next) {
      // Woken early by a signal (EINTR): the loop's test ends it. Every 200 ms at least, to see the parent gone
      // (a signal between the test and the sleep would otherwise wait out a whole interval).
      unsigned long long wake = next - now > 200000000ULL ? now + 200000000ULL : next;
      struct timespec at = {.tv_sec = wake / 1000000000ULL, .tv_nsec = wake % 1000000000ULL};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
      continue;
    }
    unsigned long long k = now / interval_ns;
    last = k;
    print_sums(&t, k);
    printf("{\"type\": \"printf\", \"data\": \"srvlens-tick %llu %llu\\n\"}\n", k, now);
    if (fflush(stdout) != 0) break;
  }
  unsigned long long now = mono_ns();
  if (read_sums(map_fd, ncpus, percpu, &t) == 0) print_sums(&t, now / interval_ns);
  printf("{\"type\": \"printf\", \"data\": \"srvlens-end %llu\\n\"}\n", now);
  fflush(stdout);
  srvlens_tracer__destroy(skel);
  return 0;
}
