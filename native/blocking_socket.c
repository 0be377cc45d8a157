/*
 * Blocking sockets for Node threads: the calls a C server makes, each one blocking the calling thread in the
 * kernel, so that the blocking reference models (iterative, thread pool, thread per connection, prefork, fork per
 * connection) wait where the lecture says they do: in accept(2), in recv(2) on the client or on the backend, and
 * their clients in the kernel's accept queue. Node has no such API (libuv makes every socket non-blocking).
 *
 * Node-API only. Every failure throws an Error whose `code` is the errno name (EINVAL, ECONNRESET...), or EAI_* for
 * name resolution, and whose message names the call.
 *
 * Sockets are made close-on-exec so that they do not leak into unrelated children; a child that is meant to get one
 * gets it through spawn's stdio, and dup2 there clears the flag on the child's copy.
 *
 * Beside the sockets, two calls for the agent (agents/node/shared-rings.ts): memory shared between processes, so
 * that a parent's agent reads its children's rings as it reads its own threads' (a SharedArrayBuffer does not
 * cross a process boundary).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

/* The errno values these calls can meet, by name; strerrorname_np is glibc-only. */
static const char *errno_name(int err) {
  switch (err) {
#define E(x) \
  case x:    \
    return #x;
    E(EACCES) E(EADDRINUSE) E(EADDRNOTAVAIL) E(EAFNOSUPPORT) E(EAGAIN) E(EBADF) E(ECONNABORTED) E(ECONNREFUSED)
    E(ECONNRESET) E(EFAULT) E(EHOSTUNREACH) E(EINTR) E(EINVAL) E(EIO) E(EISCONN) E(EMFILE) E(ENETDOWN)
    E(ENETUNREACH) E(ENFILE) E(ENOBUFS) E(ENOENT) E(ENOMEM) E(ENOTCONN) E(ENOTSOCK) E(EOPNOTSUPP) E(EPERM) E(EPIPE)
    E(EPROTO) E(ESRCH) E(ETIMEDOUT)
#undef E
    default:
      return "EUNKNOWN";
  }
}

static napi_value throw_code(napi_env env, const char *code, const char *message) {
  napi_value code_v, msg_v, err_v;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v) == napi_ok &&
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg_v) == napi_ok &&
      napi_create_error(env, code_v, msg_v, &err_v) == napi_ok) {
    napi_throw(env, err_v);
  }
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *call, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s failed: %s (%s)", call, strerror(err), errno_name(err));
  return throw_code(env, errno_name(err), message);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

/* Reads `argc` arguments; throws a TypeError when fewer were given. */
static int get_args(napi_env env, napi_callback_info info, size_t argc, napi_value *argv) {
  size_t got = argc;
  if (napi_get_cb_info(env, info, &got, argv, NULL, NULL) != napi_ok) return 0;
  if (got < argc) {
    throw_type(env, "missing arguments");
    return 0;
  }
  return 1;
}

static int get_int(napi_env env, napi_value v, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    char message[80];
    snprintf(message, sizeof message, "%s must be a number", name);
    throw_type(env, message);
    return 0;
  }
  return 1;
}

static int get_fd(napi_env env, napi_value v, int32_t *fd) { return get_int(env, v, "fd", fd); }

/* Host names are short; anything longer is a mistake worth an error rather than a truncation. */
static int get_host(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) {
    throw_type(env, "host must be a string");
    return 0;
  }
  if (len + 1 >= size) {
    throw_type(env, "host is too long");
    return 0;
  }
  return 1;
}

/* Bytes of a Buffer or any Uint8Array. */
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, (void **)data, &ab, &offset) != napi_ok ||
      type != napi_uint8_array) {
    throw_type(env, "buffer must be a Buffer or Uint8Array");
    return 0;
  }
  return 1;
}

static struct addrinfo *resolve(napi_env env, const char *host, int port, int passive) {
  char service[16];
  struct addrinfo hints, *list = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  snprintf(service, sizeof service, "%d", port);
  int rc = getaddrinfo(host, service, &hints, &list);
  if (rc != 0) {
    char message[200];
    snprintf(message, sizeof message, "getaddrinfo %s failed: %s", host, gai_strerror(rc));
    throw_code(env, rc == EAI_NONAME ? "EAI_NONAME" : rc == EAI_AGAIN ? "EAI_AGAIN" : "EAI_FAIL", message);
    return NULL;
  }
  return list;
}

static void set_nodelay(int fd) {
  int one = 1;
  /* Best effort: a response is one send, but Nagle plus delayed ACKs would stall the tail of a large one. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* listen(host, port, backlog) -> { fd, port } */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char host[256];
  int32_t port, backlog;
  if (!get_args(env, info, 3, argv) || !get_host(env, argv[0], host, sizeof host) ||
      !get_int(env, argv[1], "port", &port) || !get_int(env, argv[2], "backlog", &backlog))
    return NULL;
  struct addrinfo *list = resolve(env, host, port, 1);
  if (list == NULL) return NULL;
  int fd = -1, err = 0;
  const char *call = "socket";
  for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno, call = "socket";
      continue;
    }
    int one = 1;
    /* A restarted server must not wait out the old connections' TIME_WAIT to bind its port again. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
      err = errno, call = "setsockopt SO_REUSEADDR";
    } else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
      err = errno, call = "bind";
    } else if (listen(fd, backlog) < 0) {
      err = errno, call = "listen";
    } else {
      break;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  if (fd < 0) return throw_errno(env, call, err);

  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
    err = errno;
    close(fd);
    return throw_errno(env, "getsockname", err);
  }
  int bound = addr.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&addr)->sin_port);
  napi_value result, fd_v, port_v;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &fd_v));
  CHECK(napi_create_int32(env, bound, &port_v));
  CHECK(napi_set_named_property(env, result, "fd", fd_v));
  CHECK(napi_set_named_property(env, result, "port", port_v));
  return result;
}

/* accept(fd) -> fd. After shutdown(fd) on Linux, a blocked or later accept fails with EINVAL. */
static napi_value js_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  int conn;
  /* ECONNABORTED: the client gave up while queued; a C server takes the next one, and so do we. */
  do conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (conn < 0) return throw_errno(env, "accept", errno);
  set_nodelay(conn);
  CHECK(napi_create_int32(env, conn, &result));
  return result;
}

/*
 * peerClosed(fd) -> boolean, without blocking: the client has closed its side (FIN or reset) or the socket is in
 * error. For a connection just taken from the accept queue this says its client gave up while it waited there.
 */
static napi_value js_peer_closed(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  struct pollfd p = {.fd = fd, .events = POLLRDHUP};
  int n;
  do n = poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "poll", errno);
  CHECK(napi_get_boolean(env, n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0, &result));
  return result;
}

/* recv(fd, buffer, offset, length) -> bytes read; 0 at end of stream. */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  napi_value argv[4], result;
  int32_t fd, offset, length;
  uint8_t *data;
  size_t size;
  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd) || !get_bytes(env, argv[1], &data, &size) ||
      !get_int(env, argv[2], "offset", &offset) || !get_int(env, argv[3], "length", &length))
    return NULL;
  if (offset < 0 || length < 0 || (size_t)offset + (size_t)length > size) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offset and length must lie within the buffer");
    return NULL;
  }
  ssize_t n;
  do n = recv(fd, data + offset, (size_t)length, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "recv", errno);
  CHECK(napi_create_int32(env, (int32_t)n, &result));
  return result;
}

/* sendAll(fd, buffer): returns once every byte is handed to the kernel. */
static napi_value js_send_all(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  uint8_t *data;
  size_t size;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) || !get_bytes(env, argv[1], &data, &size))
    return NULL;
  size_t sent = 0;
  while (sent < size) {
    /* MSG_NOSIGNAL: a peer that went away is an EPIPE error here, not a SIGPIPE for the whole process. */
    ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return throw_errno(env, "send", errno);
    }
    sent += (size_t)n;
  }
  return NULL;
}

/* Waits for a connect interrupted by a signal, which the kernel goes on with (connect(2), EINTR). */
static int finish_interrupted_connect(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int rc;
  do rc = poll(&p, 1, -1);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return errno;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

/* connect(host, port) -> fd, with TCP_NODELAY: calls are small request/reply lines. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  char host[256];
  int32_t port;
  if (!get_args(env, info, 2, argv) || !get_host(env, argv[0], host, sizeof host) ||
      !get_int(env, argv[1], "port", &port))
    return NULL;
  struct addrinfo *list = resolve(env, host, port, 0);
  if (list == NULL) return NULL;
  int fd = -1, err = 0;
  const char *call = "socket";
  for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno, call = "socket";
      continue;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    err = rc == 0 ? 0 : errno == EINTR ? finish_interrupted_connect(fd) : errno;
    if (err == 0) break;
    call = "connect";
    close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  if (fd < 0) return throw_errno(env, call, err);
  set_nodelay(fd);
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

/* close(fd). Not retried on EINTR: on Linux the fd is released either way, and a retry could close a reused one. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

/*
 * shutdown(fd), both directions. On a connection it wakes a thread blocked in recv (which returns 0); on a
 * listening socket, on Linux, it wakes every thread and process blocked in accept on it, in any process sharing it.
 */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (shutdown(fd, SHUT_RDWR) < 0) return throw_errno(env, "shutdown", errno);
  return NULL;
}

/* gettid() -> the kernel's id of the calling thread, as in /proc/PID/task/TID. */
static napi_value js_gettid(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_int32(env, (int32_t)syscall(SYS_gettid), &result));
  return result;
}

/*
 * threadCpuUs() -> number. The calling thread's CPU time (user + system) in microseconds, from
 * CLOCK_THREAD_CPUTIME_ID: what the workload's CPU stages burn, so that a stage costs the same CPU whether or not its
 * thread is preempted while it runs (a wall-clock spin would end on time and burn less).
 */
static napi_value js_thread_cpu_us(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return throw_errno(env, "clock_gettime", errno);
  napi_value result;
  CHECK(napi_create_double(env, (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3, &result));
  return result;
}

/*
 * dieWithParent(parentPid) -> boolean. The kernel sends SIGKILL to this process when the thread that forked it
 * ends. A child whose main thread is blocked in accept or recv never runs its 'disconnect' handler, so this is how
 * it follows its parent, kill -9 included. False when the parent is already gone (the caller should exit).
 */
static napi_value js_die_with_parent(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int32_t parent;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], "parentPid", &parent)) return NULL;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return throw_errno(env, "prctl PR_SET_PDEATHSIG", errno);
  /* The parent may have died before the prctl: then we were already re-parented. */
  CHECK(napi_get_boolean(env, getppid() == parent, &result));
  return result;
}

/* A mapping handed to JavaScript as an ArrayBuffer: unmapped (and its memfd closed, if this process made it) when the
 * buffer is collected. */
struct mapping {
  size_t size;
  int fd;
};

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  struct mapping *m = hint;
  munmap(data, m->size);
  if (m->fd >= 0) close(m->fd);
  free(m);
}

static napi_value mapped_buffer(napi_env env, void *data, size_t size, int fd) {
  napi_value buffer;
  struct mapping *m = malloc(sizeof *m);
  if (m == NULL) {
    munmap(data, size);
    if (fd >= 0) close(fd);
    return throw_errno(env, "malloc", ENOMEM);
  }
  m->size = size;
  m->fd = fd;
  if (napi_create_external_arraybuffer(env, data, size, unmap, m, &buffer) != napi_ok) {
    unmap(env, data, m);
    return NULL;
  }
  return buffer;
}

/*
 * sharedMemory(name, bytes) -> { buffer, fd }. Zeroed memory that other processes can map: a memfd (close-on-exec,
 * so that it does not leak into this process's own children) of `bytes`, mapped shared. Another process finds it as
 * /proc/PID/fd/FD, whose link reads "/memfd:NAME (deleted)", and maps it with mapSharedMemory.
 */
static napi_value js_shared_memory(napi_env env, napi_callback_info info) {
  napi_value argv[2], result, buffer, fd_v;
  char name[64];
  size_t len;
  int32_t bytes;
  if (!get_args(env, info, 2, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) return throw_type(env, "name must be a string");
  if (!get_int(env, argv[1], "bytes", &bytes)) return NULL;
  if (bytes <= 0) return throw_type(env, "bytes must be positive");
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "memfd_create", errno);
  if (ftruncate(fd, bytes) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ftruncate", err);
  }
  void *data = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    int err = errno;
    close(fd);
    return throw_errno(env, "mmap", err);
  }
  buffer = mapped_buffer(env, data, (size_t)bytes, fd);
  if (buffer == NULL) return NULL;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &fd_v));
  CHECK(napi_set_named_property(env, result, "buffer", buffer));
  CHECK(napi_set_named_property(env, result, "fd", fd_v));
  return result;
}

/*
 * mapSharedMemory(path) -> ArrayBuffer: the whole file at `path` (another process's memfd, as /proc/PID/fd/FD)
 * mapped shared, read and write. The mapping holds the memory after its maker has exited.
 */
static napi_value js_map_shared_memory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[256];
  size_t len;
  struct stat st;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return throw_type(env, "path must be a string");
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open", errno);
  if (fstat(fd, &st) < 0 || st.st_size <= 0) {
    int err = st.st_size <= 0 ? EINVAL : errno;
    close(fd);
    return throw_errno(env, "fstat", err);
  }
  void *data = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (data == MAP_FAILED) return throw_errno(env, "mmap", err);
  return mapped_buffer(env, data, (size_t)st.st_size, -1);
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor fns[] = {
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"accept", NULL, js_accept, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peerClosed", NULL, js_peer_closed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendAll", NULL, js_send_all, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gettid", NULL, js_gettid, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threadCpuUs", NULL, js_thread_cpu_us, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dieWithParent", NULL, js_die_with_parent, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sharedMemory", NULL, js_shared_memory, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapSharedMemory", NULL, js_map_shared_memory, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns) != napi_ok) return NULL;
  return exports;
}
