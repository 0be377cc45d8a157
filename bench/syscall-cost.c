/*
 * What a syscall costs with and without the kernel tracer attached: bench/README.md's kernel-tracer-cost section
 * (bpf_stats counts a program's own time, not the syscall tracepoints' toll on every call of every process).
 * 1M write(2)s of a byte to /dev/null and 1M getppid()s, best of 5.
 *
 *   cc -O2 -o /tmp/syscall-cost bench/syscall-cost.c && flock /tmp/srvlens-load.lock /tmp/syscall-cost
 *   (again with native/bpf/build/srvlens-ktrace --interval-ms 1000 --pids 1 running, or bpftrace)
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
  const int n = 1000000;
  int fd = open("/dev/null", O_WRONLY);
  char c = 0;
  double best_write = 1e18, best_getppid = 1e18;
  for (int r = 0; r < 5; r++) {
    double t0 = now_ns();
    for (int i = 0; i < n; i++) (void)!write(fd, &c, 1);
    double t1 = now_ns();
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    double t2 = now_ns();
    if ((t1 - t0) / n < best_write) best_write = (t1 - t0) / n;
    if ((t2 - t1) / n < best_getppid) best_getppid = (t2 - t1) / n;
  }
  printf("write %.0f ns, getppid %.0f ns (best of 5 x 1M)\n", best_write, best_getppid);
  return 0;
}
