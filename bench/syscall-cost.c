/*
 * What a syscall costs with and without the kernel tracer attached: bench/README.md's kernel-tracer-cost section
 * (bpf_stats counts a program's own time, not the syscall tracepoints' toll on every call of every process).
 * N write(2)s of a byte to /dev/null, N getppid()s and N/10 exchanges of 64 bytes each way on a loopback TCP
 * connection, best of ROUNDS (by default 1M, 5). kernel-tracer-cost
 * builds and runs it with and without each backend attached (bench/kernel-tracer/syscall-toll.ts).
 *
 *   cc -O2 -o /tmp/syscall-cost bench/syscall-cost.c && flock /tmp/srvlens-load.lock /tmp/syscall-cost [N [ROUNDS]]
 *   (again with native/bpf/build/srvlens-ktrace --interval-ms 1000 --pids 1 running, or bpftrace)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* This thread's CPU time, not the wall clock: on a shared VM a wall-clock loop also times whoever preempted it. */
static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/*
 * A TCP connection to itself on 127.0.0.1, both ends in this thread: what one request and its answer take at both
 * ends' sockets (two sends, two receives; loopback delivers each in the sender's context), untraced, so only the
 * tracepoints' toll and their programs' early exits fall on it.
 */
static void tcp_pair(int *client, int *server) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) exit(1);
  *client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*client, (struct sockaddr *)&a, sizeof a)) exit(1);
  *server = accept(l, 0, 0);
  setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  close(l);
}

int main(int argc, char **argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 1000000;
  const int rounds = argc > 2 ? atoi(argv[2]) : 5;
  int fd = open("/dev/null", O_WRONLY);
  char c = 0;
  double best_write = 1e18, best_getppid = 1e18, best_tcp = 1e18;
  int client, server;
  char buf[64] = {0};
  tcp_pair(&client, &server);
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    for (int i = 0; i < n; i++) (void)!write(fd, &c, 1);
    double t1 = now_ns();
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    double t2 = now_ns();
    for (int i = 0; i < n / 10; i++) {
      (void)!write(client, buf, sizeof buf);
      (void)!read(server, buf, sizeof buf);
      (void)!write(server, buf, sizeof buf);
      (void)!read(client, buf, sizeof buf);
    }
    double t3 = now_ns();
    if ((t3 - t2) / (n / 10) < best_tcp) best_tcp = (t3 - t2) / (n / 10);
    if ((t1 - t0) / n < best_write) best_write = (t1 - t0) / n;
    if ((t2 - t1) / n < best_getppid) best_getppid = (t2 - t1) / n;
  }
  printf("write %.1f ns, getppid %.1f ns, tcp exchange %.1f ns (best of %d x %d, %d exchanges)\n", best_write, best_getppid, best_tcp, rounds, n, n / 10);
  return 0;
}
