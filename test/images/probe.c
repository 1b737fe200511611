/*
 * probe: the network test tool of buildfence's integration tests.
 *
 * Built static (gcc -static -O2 -o probe probe.c) into the buildfence-test/probe image by
 * scripts/build-test-images. Hosts are numeric IPv4/IPv6 literals only: a static binary must
 * not use glibc's name service. Each run prints one line saying what happened; the exit code
 * is the interface tests use:
 *
 *   probe tcp HOST PORT [TIMEOUT_MS]   send "ping\n", read one reply line
 *   probe udp HOST PORT [TIMEOUT_MS]   same with one datagram on a connected UDP socket
 *       0 reply received
 *       1 rejected: refused, reset, unreachable (ICMP), or denied by local netfilter (EPERM)
 *       2 timeout (default 3000 ms; for tcp also "connected, no reply in time")
 *       3 anything else (bad arguments, closed without a reply, ...)
 *   probe serve PORT                   answer every TCP connection and UDP datagram on
 *                                      [::]:PORT (IPv4 too) with "pong PORT\n"; logs peers.
 *                                      A TCP client whose first line is "hold" gets a reply
 *                                      to every line until it closes (idle limit 120 s)
 *   probe hold HOST PORT SECONDS       one TCP connection to a server: "hold\n", a reply
 *                                      ("hold ADDR open (...)"), SECONDS (0-600) of sleep,
 *                                      then "hold\n" again on the same connection and one
 *                                      more reply ("hold ADDR ok (...)"); exit codes as for tcp
 *   probe ping HOST [TIMEOUT_MS]       one ICMP (or ICMPv6) echo request on a ping socket
 *                                      (SOCK_DGRAM: no NET_RAW needed, only the group in
 *                                      net.ipv4.ping_group_range); prints "icmp ADDR ok";
 *                                      exit codes as for tcp
 *   probe packet                       0 if socket(AF_PACKET, SOCK_RAW) opens, else 1
 *   probe raw                          0 if socket(AF_INET, SOCK_RAW, ICMP) opens, else 1
 *   probe family FAMILY                0 if a socket of FAMILY opens (stream, datagram, seqpacket
 *                                      or raw, the first it has), 1 refused (EPERM or EACCES: the
 *                                      seccomp filter), 3 otherwise (the kernel lacks the family);
 *                                      FAMILY: unix inet inet6 netlink packet vsock alg bluetooth
 *                                      tipc, or a number; prints "family NAME open|refused|error"
 *   probe uring                        io_uring_setup(): 0 opens, 1 refused, 3 otherwise
 *   probe dns SERVER NAME [TYPE] [tcp] one query to SERVER:53; prints "rcode=N answers=a,b"
 *                                      (A/AAAA addresses); 0 reply, 1 rejected, 2 timeout
 *                                      (3 s), 3 other
 *
 * For the benchmarks (bench/):
 *   probe source PORT                  TCP only, on [::]:PORT, no log per connection: a client
 *                                      that sends "bulk N\n" gets N bytes, then EOF; any other
 *                                      line gets "pong PORT\n", then EOF
 *   probe rate HOST PORT SECONDS       sequential connect, "ping\n", read the reply, close, for
 *                                      SECONDS (1-60); prints "rate N conn/s (M connections in
 *                                      S s)"; exit codes as for tcp, from the first failure
 *   probe bulk HOST PORT BYTES         reads BYTES from a source; prints "bulk N bytes in S s =
 *                                      X MB/s" (MB = 10^6 bytes); 0 when all BYTES arrived,
 *                                      2 when 3 s pass without data, 1 and 3 as for tcp
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OK = 0, REJECTED = 1, TIMEOUT = 2, OTHER = 3 };

static void usage(void) {
  fprintf(stderr,
          "usage: probe tcp|udp HOST PORT [TIMEOUT_MS]\n"
          "       probe serve PORT\n"
          "       probe hold HOST PORT SECONDS\n"
          "       probe ping HOST [TIMEOUT_MS]\n"
          "       probe packet | probe raw | probe family FAMILY | probe uring\n"
          "       probe dns SERVER NAME [A|AAAA|TXT|NUMBER] [tcp]\n"
          "       probe source PORT\n"
          "       probe rate HOST PORT SECONDS\n"
          "       probe bulk HOST PORT BYTES\n"
          "       probe flood HOST PORT SECONDS\n");
  exit(OTHER);
}

/* One line on stdout, flushed: tests read it even if the process is killed next. */
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

static long parse_num(const char *s, long min, long max, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "probe: bad %s '%s'\n", what, s);
    exit(OTHER);
  }
  return v;
}

/* Numeric address only (inet_pton); "[v6]" brackets are accepted. */
static socklen_t parse_addr(const char *host, int port, struct sockaddr_storage *ss) {
  char buf[INET6_ADDRSTRLEN + 2];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
    memcpy(buf, host + 1, n - 2);
    buf[n - 2] = '\0';
  } else if (n < sizeof buf) {
    strcpy(buf, host);
  } else {
    buf[0] = '\0';
  }
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, buf, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    return sizeof *a4;
  }
  if (inet_pton(AF_INET6, buf, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    return sizeof *a6;
  }
  fprintf(stderr, "probe: '%s' is not a numeric IPv4 or IPv6 address\n", host);
  exit(OTHER);
}

/* "1.2.3.4:80" or "[fd00::1]:80"; IPv4-mapped IPv6 peers are shown as IPv4. */
static const char *addr_str(const struct sockaddr_storage *ss) {
  static char out[INET6_ADDRSTRLEN + 10];
  char ip[INET6_ADDRSTRLEN];
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const void *)ss;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, sizeof out, "%s:%d", ip, ntohs(a->sin_port));
  } else {
    const struct sockaddr_in6 *a = (const void *)ss;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
      snprintf(out, sizeof out, "%s:%d", ip, ntohs(a->sin6_port));
    } else {
      inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
      snprintf(out, sizeof out, "[%s]:%d", ip, ntohs(a->sin6_port));
    }
  }
  return out;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, long deadline) {
  for (;;) {
    long left = deadline - now_ms();
    if (left < 0) left = 0;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, (int)left);
    if (r >= 0) return r;
    if (errno != EINTR) return 0;
  }
}

/* Maps a socket error to the exit code and the word printed for it. */
static int classify(int err, const char **word) {
  switch (err) {
  case ECONNREFUSED: *word = "refused"; return REJECTED;
  case ECONNRESET: *word = "reset"; return REJECTED;
  case EHOSTUNREACH:
  case ENETUNREACH: *word = "unreachable"; return REJECTED;
  case EPERM:
  case EACCES: *word = "denied"; return REJECTED; /* dropped by local netfilter (OUTPUT) */
  case ETIMEDOUT: *word = "timeout"; return TIMEOUT;
  default: *word = "error"; return OTHER;
  }
}

static int report_errno(const char *proto, const struct sockaddr_storage *ss, int err) {
  const char *word;
  int code = classify(err, &word);
  say("%s %s %s (%s)", proto, addr_str(ss), word, strerror(err));
  return code;
}

/* Reads one line (or whatever arrives before EOF) into buf; returns length, -1 on timeout,
 * -2 on error (errno set). */
static int read_line(int fd, char *buf, size_t size, long deadline) {
  size_t len = 0;
  while (len < size - 1) {
    if (!wait_fd(fd, POLLIN, deadline)) return -1;
    ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -2;
    }
    if (n == 0) break;
    len += (size_t)n;
    if (memchr(buf, '\n', len)) break;
  }
  buf[len] = '\0';
  char *nl = strchr(buf, '\n');
  if (nl) *nl = '\0';
  return (int)len;
}

/* Non-blocking connect, waited for until the deadline. Returns the connected socket or the
 * exit code after saying what went wrong (as a negative number). */
static int tcp_connect(const struct sockaddr_storage *ss, socklen_t sl, long deadline) {
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -report_errno("tcp", ss, errno);
  if (connect(fd, (const struct sockaddr *)ss, sl) < 0 && errno != EINPROGRESS)
    return -report_errno("tcp", ss, errno);
  if (!wait_fd(fd, POLLOUT, deadline)) {
    say("tcp %s timeout", addr_str(ss));
    return -TIMEOUT;
  }
  int err = 0;
  socklen_t el = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (err) return -report_errno("tcp", ss, err);
  return fd;
}

/* Connects, sends "ping\n" and reads one reply line into `reply`. Returns the open socket or
 * the exit code after saying what went wrong (as a negative number). */
static int tcp_ping(const struct sockaddr_storage *ss, socklen_t sl, long deadline, char *reply, size_t size) {
  int fd = tcp_connect(ss, sl, deadline);
  if (fd < 0) return fd;
  if (send(fd, "ping\n", 5, MSG_NOSIGNAL) < 0) return -report_errno("tcp", ss, errno);
  int n = read_line(fd, reply, size, deadline);
  if (n == -1) {
    say("tcp %s timeout (connected, no reply)", addr_str(ss));
    return -TIMEOUT;
  }
  if (n == -2) return -report_errno("tcp", ss, errno);
  if (n == 0) {
    say("tcp %s closed (connected, no reply)", addr_str(ss));
    return -OTHER;
  }
  return fd;
}

static int cmd_tcp(const char *host, int port, long timeout_ms) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, port, &ss);
  char reply[256];
  int fd = tcp_ping(&ss, sl, now_ms() + timeout_ms, reply, sizeof reply);
  if (fd < 0) return -fd;
  say("tcp %s ok (%s)", addr_str(&ss), reply);
  close(fd);
  return OK;
}

/* Keeps one connection across a sleep: the fence may expire the address meanwhile, and an
 * established connection must survive that. */
static int cmd_hold(const char *host, int port, long seconds) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, port, &ss);
  char reply[256];
  int fd = tcp_connect(&ss, sl, now_ms() + 3000);
  if (fd < 0) return -fd;
  for (int round = 0; round < 2; round++) {
    if (round == 1) sleep((unsigned)seconds);
    if (send(fd, "hold\n", 5, MSG_NOSIGNAL) < 0) return report_errno("hold", &ss, errno);
    int n = read_line(fd, reply, sizeof reply, now_ms() + 3000);
    if (n == -1) {
      say("hold %s timeout (%s)", addr_str(&ss), round ? "after the sleep" : "no first reply");
      return TIMEOUT;
    }
    if (n == -2) return report_errno("hold", &ss, errno);
    if (n == 0) {
      say("hold %s closed (%s)", addr_str(&ss), round ? "after the sleep" : "no first reply");
      return OTHER;
    }
    say("hold %s %s (%s)", addr_str(&ss), round ? "ok" : "open", reply);
  }
  close(fd);
  return OK;
}

/* The address alone, without the port addr_str adds. */
static const char *host_str(const struct sockaddr_storage *ss) {
  char *s = (char *)addr_str(ss), *colon = strrchr(s, ':');
  if (colon) *colon = '\0';
  if (s[0] == '[') {
    s[strlen(s) - 1] = '\0';
    return s + 1;
  }
  return s;
}

static int ping_errno(const struct sockaddr_storage *ss, int err) {
  const char *word;
  int code = classify(err, &word);
  say("icmp %s %s (%s)", host_str(ss), word, strerror(err));
  return code;
}

/* Echo request and reply on a ping socket; the kernel sets the identifier and the checksum. */
static int cmd_ping(const char *host, long timeout_ms) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, 0, &ss);
  int v6 = ss.ss_family == AF_INET6;
  long deadline = now_ms() + timeout_ms;
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
  if (fd < 0) return ping_errno(&ss, errno);
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0) return ping_errno(&ss, errno);
  uint8_t echo[12] = {v6 ? 128 : 8, 0, 0, 0, 0, 0, 0, 1, 'p', 'i', 'n', 'g'};
  if (send(fd, echo, sizeof echo, 0) < 0) return ping_errno(&ss, errno);
  uint8_t reply[512];
  for (;;) {
    if (!wait_fd(fd, POLLIN, deadline)) {
      say("icmp %s timeout", host_str(&ss));
      return TIMEOUT;
    }
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return ping_errno(&ss, errno);
    if (n >= 1 && reply[0] == (v6 ? 129 : 0)) {
      say("icmp %s ok (echo reply)", host_str(&ss));
      return OK;
    }
  }
}

static int cmd_rate(const char *host, int port, long seconds) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, port, &ss);
  /* Closing with a reset leaves no TIME_WAIT socket or conntrack entry behind: thousands of
   * connections per second would otherwise use up the ephemeral ports and the conntrack table. */
  struct linger reset = {.l_onoff = 1, .l_linger = 0};
  long start = now_ms(), end = start + seconds * 1000, count = 0, t;
  while ((t = now_ms()) < end) {
    char reply[64];
    int fd = tcp_ping(&ss, sl, t + 3000, reply, sizeof reply);
    if (fd < 0) return -fd;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
    count++;
  }
  double secs = (now_ms() - start) / 1000.0;
  say("rate %.0f conn/s (%ld connections in %.2f s)", count / secs, count, secs);
  return OK;
}

static int cmd_bulk(const char *host, int port, long long bytes) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, port, &ss);
  int fd = tcp_connect(&ss, sl, now_ms() + 3000);
  if (fd < 0) return -fd;
  char request[32];
  int len = snprintf(request, sizeof request, "bulk %lld\n", bytes);
  long start = now_ms();
  if (send(fd, request, len, MSG_NOSIGNAL) < 0) return report_errno("tcp", &ss, errno);
  static char buf[1 << 18];
  long long got = 0;
  for (;;) {
    if (!wait_fd(fd, POLLIN, now_ms() + 3000)) {
      say("bulk %lld bytes, then nothing for 3 s", got);
      return TIMEOUT;
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return report_errno("tcp", &ss, errno);
    if (n == 0) break;
    got += n;
  }
  double secs = (now_ms() - start) / 1000.0;
  if (secs < 0.001) secs = 0.001;
  say("bulk %lld bytes in %.3f s = %.1f MB/s", got, secs, got / secs / 1e6);
  if (got != bytes) {
    say("bulk: expected %lld bytes", bytes);
    return OTHER;
  }
  close(fd);
  return OK;
}

static int cmd_udp(const char *host, int port, long timeout_ms) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, port, &ss);
  long deadline = now_ms() + timeout_ms;
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return report_errno("udp", &ss, errno);
  /* Connected, so that ICMP errors are reported to this socket. */
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0) return report_errno("udp", &ss, errno);
  if (send(fd, "ping\n", 5, 0) < 0) return report_errno("udp", &ss, errno);
  char reply[256];
  for (;;) {
    if (!wait_fd(fd, POLLIN, deadline)) {
      say("udp %s timeout", addr_str(&ss));
      return TIMEOUT;
    }
    ssize_t n = recv(fd, reply, sizeof reply - 1, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return report_errno("udp", &ss, errno);
    reply[n] = '\0';
    reply[strcspn(reply, "\n")] = '\0';
    say("udp %s ok (%s)", addr_str(&ss), reply);
    return OK;
  }
}

/* UDP datagrams as fast as one socket sends them, for SECONDS: the flood that tries to bury the
 * denied-attempt log. "refused" counts the sends the fence refused (EPERM: each one passed its
 * rules once), "failed" those that never got that far (a full buffer). */
static int cmd_flood(const char *host, int port, long seconds) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(host, port, &ss);
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return report_errno("udp", &ss, errno);
  long end = now_ms() + seconds * 1000, sent = 0, refused = 0, failed = 0;
  while (now_ms() < end) {
    for (int i = 0; i < 256; i++) {
      if (sendto(fd, "flood\n", 6, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) == 6) sent++;
      else if (errno == EPERM) refused++;
      else failed++;
    }
  }
  say("flood %s sent %ld refused %ld failed %ld", addr_str(&ss), sent, refused, failed);
  return OK;
}

static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

/* One child per TCP connection: read the request line (briefly), answer, then close
 * gracefully so the client reads the answer rather than a reset. */
static void serve_tcp_client(int c, int port) {
  char buf[256];
  struct timeval tv = {.tv_sec = 2};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n, got = 0;
  while (got < (ssize_t)sizeof buf && (n = recv(c, buf + got, sizeof buf - got, 0)) > 0) {
    got += n;
    if (memchr(buf, '\n', got)) break;
  }
  dprintf(c, "pong %d\n", port);
  if (got >= 4 && !memcmp(buf, "hold", 4)) {
    /* A held connection: one reply per chunk received, until the client closes. */
    tv.tv_sec = 120;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (recv(c, buf, sizeof buf, 0) > 0) dprintf(c, "pong %d\n", port);
  }
  shutdown(c, SHUT_WR);
  while (recv(c, buf, sizeof buf, 0) > 0) {}
  close(c);
}

static int cmd_serve(int port) {
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGCHLD, SIG_IGN); /* children are reaped automatically */
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                             .sin6_addr = IN6ADDR_ANY_INIT};
  int fds[2], types[2] = {SOCK_STREAM, SOCK_DGRAM}, one = 1, zero = 0;
  for (int i = 0; i < 2; i++) {
    fds[i] = socket(AF_INET6, types[i], 0);
    if (fds[i] < 0) {
      say("serve: socket: %s", strerror(errno));
      return OTHER;
    }
    setsockopt(fds[i], IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* IPv4 as well */
    setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fds[i], (struct sockaddr *)&any, sizeof any) < 0) {
      say("serve: bind %s port %d: %s", i ? "udp" : "tcp", port, strerror(errno));
      return OTHER;
    }
  }
  if (listen(fds[0], 128) < 0) {
    say("serve: listen: %s", strerror(errno));
    return OTHER;
  }
  say("serve listening on tcp and udp port %d", port);
  for (;;) {
    struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
    if (poll(p, 2, -1) < 0) continue;
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    if (p[0].revents & POLLIN) {
      int c = accept(fds[0], (struct sockaddr *)&peer, &pl);
      if (c >= 0) {
        say("tcp from %s", addr_str(&peer));
        pid_t pid = fork();
        if (pid == 0) {
          close(fds[0]);
          close(fds[1]);
          serve_tcp_client(c, port);
          _exit(0);
        }
        if (pid < 0) serve_tcp_client(c, port); /* no fork: answer inline */
        else close(c);
      }
    }
    if (p[1].revents & POLLIN) {
      char buf[512], reply[32];
      pl = sizeof peer;
      ssize_t n = recvfrom(fds[1], buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl);
      if (n >= 0) {
        say("udp from %s", addr_str(&peer));
        int len = snprintf(reply, sizeof reply, "pong %d\n", port);
        sendto(fds[1], reply, len, 0, (struct sockaddr *)&peer, pl);
      }
    }
  }
}

static void send_bulk(int c, long long n) {
  static const char zeros[1 << 18];
  struct timeval tv = {.tv_sec = 3};
  setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  while (n > 0) {
    ssize_t w = send(c, zeros, n < (long long)sizeof zeros ? (size_t)n : sizeof zeros, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) break;
    n -= w;
  }
  close(c);
}

/* Answers inline, so that a connection rate measures the path to the server rather than a fork
 * and a log line per connection; a bulk transfer gets a child, so it blocks no one. */
static int cmd_source(int port) {
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGCHLD, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                             .sin6_addr = IN6ADDR_ANY_INIT};
  int one = 1, zero = 0, fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) {
    say("source: socket: %s", strerror(errno));
    return OTHER;
  }
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&any, sizeof any) < 0 || listen(fd, 1024) < 0) {
    say("source: bind or listen on tcp port %d: %s", port, strerror(errno));
    return OTHER;
  }
  say("source listening on tcp port %d", port);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) continue;
    /* A client that sends nothing holds the loop for at most this long. */
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char line[64];
    ssize_t got = 0, n;
    while (got < (ssize_t)sizeof line - 1 && (n = recv(c, line + got, sizeof line - 1 - got, 0)) > 0) {
      got += n;
      if (memchr(line, '\n', got)) break;
    }
    line[got] = '\0';
    long long want;
    if (sscanf(line, "bulk %lld", &want) == 1 && want > 0) {
      pid_t pid = fork();
      if (pid == 0) {
        close(fd);
        send_bulk(c, want);
        _exit(0);
      }
      if (pid < 0) send_bulk(c, want);
      else close(c);
      continue;
    }
    dprintf(c, "pong %d\n", port);
    close(c);
  }
}

static int cmd_socket(const char *what, int domain, int type, int proto) {
  int fd = socket(domain, type, proto);
  if (fd < 0) {
    say("%s socket: %s", what, strerror(errno));
    return REJECTED;
  }
  say("%s socket opened", what);
  close(fd);
  return OK;
}

static int open_or_refused(const char *what, int err) {
  int refused = err == EPERM || err == EACCES;
  say("%s %s (%s)", what, refused ? "refused" : "error", strerror(err));
  return refused ? REJECTED : OTHER;
}

static int cmd_family(const char *name) {
  static const struct { const char *name; int family; } families[] = {
      {"unix", AF_UNIX}, {"inet", AF_INET}, {"inet6", AF_INET6}, {"netlink", AF_NETLINK}, {"packet", AF_PACKET},
      {"vsock", AF_VSOCK}, {"alg", AF_ALG}, {"bluetooth", AF_BLUETOOTH}, {"tipc", AF_TIPC},
  };
  int family = -1;
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (!strcmp(name, families[i].name)) family = families[i].family;
  if (family < 0) family = (int)parse_num(name, 0, AF_MAX, "family");
  char what[64];
  snprintf(what, sizeof what, "family %s", name);
  int err = 0;
  for (int type = SOCK_STREAM; type <= SOCK_SEQPACKET; type++) {
    int fd = socket(family, type, 0);
    if (fd >= 0) {
      say("%s open", what);
      close(fd);
      return OK;
    }
    err = errno;
    /* A refusal, or the family missing, says it all; a type the family lacks says nothing. */
    if (err != ESOCKTNOSUPPORT && err != EPROTONOSUPPORT && err != EINVAL && err != EPROTOTYPE) break;
  }
  return open_or_refused(what, err);
}

static int cmd_uring(void) {
  unsigned char params[120] = {0}; /* struct io_uring_params, zeroed */
  long fd = syscall(SYS_io_uring_setup, 1, params);
  if (fd >= 0) {
    say("uring open");
    close((int)fd);
    return OK;
  }
  return open_or_refused("uring", errno);
}

/* ---- dns: one hand-built query (RFC 1035 section 4) ---- */

static int qtype_of(const char *s) {
  if (!strcasecmp(s, "A")) return 1;
  if (!strcasecmp(s, "AAAA")) return 28;
  if (!strcasecmp(s, "TXT")) return 16;
  if (!strcasecmp(s, "CNAME")) return 5;
  return (int)parse_num(s, 1, 65535, "query type");
}

/* Header, QNAME as labels, QTYPE, QCLASS IN; returns the length. */
static int build_query(uint8_t *q, size_t size, uint16_t id, const char *name, int qtype) {
  memset(q, 0, 12);
  q[0] = id >> 8, q[1] = id & 0xff;
  q[2] = 0x01; /* RD */
  q[5] = 1;    /* QDCOUNT */
  size_t pos = 12;
  const char *p = name;
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    if (len == 0 || len > 63 || pos + len + 1 + 5 > size) {
      fprintf(stderr, "probe: bad name '%s'\n", name);
      exit(OTHER);
    }
    q[pos++] = (uint8_t)len;
    memcpy(q + pos, p, len);
    pos += len;
    p += len;
    if (*p == '.') p++;
  }
  q[pos++] = 0;
  q[pos++] = qtype >> 8, q[pos++] = qtype & 0xff;
  q[pos++] = 0, q[pos++] = 1;
  return (int)pos;
}

/* Skips a possibly compressed name; returns the offset after it, or -1. */
static int skip_name(const uint8_t *m, int len, int pos) {
  while (pos < len) {
    uint8_t l = m[pos];
    if (l == 0) return pos + 1;
    if ((l & 0xc0) == 0xc0) return pos + 2 <= len ? pos + 2 : -1;
    pos += l + 1;
  }
  return -1;
}

static int print_answer(const uint8_t *m, int len) {
  if (len < 12) {
    say("dns: short reply (%d bytes)", len);
    return OTHER;
  }
  int rcode = m[3] & 0x0f, qd = m[4] << 8 | m[5], an = m[6] << 8 | m[7];
  int pos = 12;
  for (int i = 0; i < qd && pos >= 0; i++) {
    pos = skip_name(m, len, pos);
    if (pos >= 0) pos += 4;
  }
  char answers[1024] = "", ip[INET6_ADDRSTRLEN];
  for (int i = 0; i < an && pos >= 0; i++) {
    pos = skip_name(m, len, pos);
    if (pos < 0 || pos + 10 > len) break;
    int type = m[pos] << 8 | m[pos + 1], rdlen = m[pos + 8] << 8 | m[pos + 9];
    pos += 10;
    if (pos + rdlen > len) break;
    if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
      inet_ntop(type == 1 ? AF_INET : AF_INET6, m + pos, ip, sizeof ip);
      size_t used = strlen(answers);
      snprintf(answers + used, sizeof answers - used, "%s%s", used ? "," : "", ip);
    }
    pos += rdlen;
  }
  say("rcode=%d answers=%s", rcode, answers);
  return OK;
}

static int cmd_dns(const char *server, const char *name, int qtype, int use_tcp) {
  struct sockaddr_storage ss;
  socklen_t sl = parse_addr(server, 53, &ss);
  const char *proto = use_tcp ? "dns/tcp" : "dns";
  long deadline = now_ms() + 3000;
  uint8_t msg[2 + 512], reply[65536];
  uint16_t id = (uint16_t)(getpid() ^ now_ms());
  int qlen = build_query(msg + 2, sizeof msg - 2, id, name, qtype);
  msg[0] = qlen >> 8, msg[1] = qlen & 0xff; /* TCP length prefix (RFC 1035 4.2.2) */

  int fd = socket(ss.ss_family, (use_tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
  if (fd < 0) return report_errno(proto, &ss, errno);
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
    return report_errno(proto, &ss, errno);
  if (use_tcp) {
    if (!wait_fd(fd, POLLOUT, deadline)) {
      say("%s %s timeout", proto, addr_str(&ss));
      return TIMEOUT;
    }
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) return report_errno(proto, &ss, err);
  }
  const uint8_t *out = use_tcp ? msg : msg + 2;
  if (send(fd, out, use_tcp ? qlen + 2 : qlen, MSG_NOSIGNAL) < 0)
    return report_errno(proto, &ss, errno);

  int got = 0, want = use_tcp ? 2 : 1; /* tcp: 2-byte length, then the message */
  for (;;) {
    if (!wait_fd(fd, POLLIN, deadline)) {
      say("%s %s timeout", proto, addr_str(&ss));
      return TIMEOUT;
    }
    ssize_t n = recv(fd, reply + got, sizeof reply - got, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return report_errno(proto, &ss, errno);
    if (!use_tcp) {
      if (n >= 2 && (reply[0] << 8 | reply[1]) != id) continue; /* not our answer */
      return print_answer(reply, (int)n);
    }
    if (n == 0) {
      say("%s %s closed without a full reply", proto, addr_str(&ss));
      return OTHER;
    }
    got += (int)n;
    if (got >= 2) want = 2 + (reply[0] << 8 | reply[1]);
    if (got >= want && want > 2) return print_answer(reply + 2, want - 2);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *cmd = argv[1];
  if ((!strcmp(cmd, "tcp") || !strcmp(cmd, "udp")) && (argc == 4 || argc == 5)) {
    int port = (int)parse_num(argv[3], 1, 65535, "port");
    long timeout = argc == 5 ? parse_num(argv[4], 1, 3600000, "timeout") : 3000;
    return cmd[0] == 't' ? cmd_tcp(argv[2], port, timeout) : cmd_udp(argv[2], port, timeout);
  }
  if (!strcmp(cmd, "ping") && (argc == 3 || argc == 4))
    return cmd_ping(argv[2], argc == 4 ? parse_num(argv[3], 1, 3600000, "timeout") : 3000);
  if (!strcmp(cmd, "hold") && argc == 5)
    return cmd_hold(argv[2], (int)parse_num(argv[3], 1, 65535, "port"), parse_num(argv[4], 0, 600, "seconds"));
  if (!strcmp(cmd, "serve") && argc == 3) return cmd_serve((int)parse_num(argv[2], 1, 65535, "port"));
  if (!strcmp(cmd, "source") && argc == 3) return cmd_source((int)parse_num(argv[2], 1, 65535, "port"));
  if (!strcmp(cmd, "rate") && argc == 5)
    return cmd_rate(argv[2], (int)parse_num(argv[3], 1, 65535, "port"), parse_num(argv[4], 1, 60, "seconds"));
  if (!strcmp(cmd, "bulk") && argc == 5)
    return cmd_bulk(argv[2], (int)parse_num(argv[3], 1, 65535, "port"), parse_num(argv[4], 1, 1000000000000L, "byte count"));
  if (!strcmp(cmd, "flood") && argc == 5)
    return cmd_flood(argv[2], (int)parse_num(argv[3], 1, 65535, "port"), parse_num(argv[4], 1, 600, "seconds"));
  if (!strcmp(cmd, "packet") && argc == 2)
    return cmd_socket("packet", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (!strcmp(cmd, "raw") && argc == 2) return cmd_socket("raw", AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (!strcmp(cmd, "family") && argc == 3) return cmd_family(argv[2]);
  if (!strcmp(cmd, "uring") && argc == 2) return cmd_uring();
  if (!strcmp(cmd, "dns") && argc >= 4 && argc <= 6) {
    int qtype = argc >= 5 && strcmp(argv[4], "tcp") ? qtype_of(argv[4]) : 1;
    int use_tcp = !strcmp(argv[argc - 1], "tcp") && argc >= 5;
    if (argc == 6 && !use_tcp) usage();
    return cmd_dns(argv[2], argv[3], qtype, use_tcp);
  }
  usage();
  return OTHER;
}
