/*
 * What a syscall costs with and without the kernel tracer attached: bench/README.md's kernel-tracer-cost section
 * (bpf_stats counts a program's own time, not the syscall tracepoints' toll on every call of every process).
 * N write(2)s of a byte to /dev/null and N getppid()s, best of ROUNDS (by default 1M, 5). kernel-tracer-cost
 * builds and runs it with and without each backend attached (bench/kernel-tracer/syscall-toll.ts).
 *
 *   cc -O2 -o /tmp/syscall-cost bench/syscall-cost.c && flock /tmp/srvlens-load.lock /tmp/syscall-cost [N [ROUNDS]]
 *   (again with native/bpf/build/srvlens-ktrace --interval-ms 1000 --pids 1 running, or bpftrace)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* This thread's CPU time, not the wall clock: on a shared VM a wall-clock loop also times whoever preempted it. */
static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 1000000;
  const int rounds = argc > 2 ? atoi(argv[2]) : 5;
  int fd = open("/dev/null", O_WRONLY);
  char c = 0;
  double best_write = 1e18, best_getppid = 1e18;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    for (int i = 0; i < n; i++) (void)!write(fd, &c, 1);
    double t1 = now_ns();
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    double t2 = now_ns();
    if ((t1 - t0) / n < best_write) best_write = (t1 - t0) / n;
    if ((t2 - t1) / n < best_getppid) best_getppid = (t2 - t1) / n;
  }
  printf("write %.1f ns, getppid %.1f ns (best of %d x %d)\n", best_write, best_getppid, rounds, n);
  return 0;
}
