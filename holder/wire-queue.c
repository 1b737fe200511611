/*
 * wire-queue: the name check's fast path, in the holder (issue 14).
 *
 *   wire-queue QUEUE [SOCKET]
 *
 * The holder's rules send every packet the build sends on a connection to a name entry's address
 * that is not checked yet (TLS: until its ClientHello is read; HTTP: all its life) to netfilter
 * queue QUEUE (iptables NFQUEUE, no --queue-bypass: with no reader the kernel drops them). This
 * program binds the queue and speaks to buildfence over the unix socket SOCKET, where buildfence
 * listens (a directory of the host that only the holder mounts: no hop through the engine), or
 * without one over stdin and stdout, so that the name each connection carries is read and
 * decided in buildfence's own process:
 *
 *   - a packet without TCP payload is accepted at once (the handshake, acknowledgements); one
 *     that opens, ends or resets a connection (SYN, FIN, RST) is also told to buildfence, as a
 *     notice, so that it knows where the stream starts and when it ended;
 *   - a packet with payload is told to buildfence with its id and left in the queue, unverdicted,
 *     until buildfence's verdict for that id comes back on stdin; unless buildfence has said that
 *     its connection may send up to a sequence number unread (ALLOW: an HTTP request's body)
 *     and the packet ends there or before, which is accepted at once.
 *
 * Frames out (the socket, or stdout), big-endian: u32 length of what follows, then u8 kind.
 *   'R' ready: the queue is bound (nothing follows).
 *   'P' packet: u32 id (0: a notice, already accepted), u8 family (4, 6), u8 TCP flags,
 *       u16 source port, u16 destination port, u32 sequence number, 16 bytes source address,
 *       16 bytes destination address (IPv4 in the first 4), then the TCP payload.
 * Verdicts in (the socket, or stdin), 12 bytes each, big-endian: u32 id, u32 verdict (NF_DROP 0, NF_ACCEPT 1,
 *   NF_REPEAT 4, or RESET 0x100), u32 mark (set on the packet when not 0; the rules read it on the
 *   repeat). RESET first destroys the local socket the packet came from (sock_diag's
 *   SOCK_DESTROY: the kernel sends the destination a reset, so the server does not keep a
 *   connection that will never speak, and the build's socket fails), then repeats the packet with
 *   the mark, which the rules turn into a reset for every later packet. ALLOW (0x200) gives no
 *   verdict: the packet's connection may send every byte before the sequence number in the mark
 *   field without asking (forgotten at the connection's SYN, FIN or RST, or when the table of
 *   them is full; then its packets are told again, never let through unasked).
 *
 * It parses only what the kernel built: the IP and TCP headers, to find the payload. A packet it
 * cannot read (a fragment, an IPv6 extension it does not walk) is dropped. It exits when its input
 * ends (buildfence is gone: the queue is unbound and the kernel drops what comes), and on any
 * netlink error, with the reason on stderr; buildfence then fails the run.
 *
 * Raw netlink (nfnetlink_queue), no library: the holder's arm64 build cross-compiles it like
 * seccomp-exec, static.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define QUEUE_MAXLEN 4096
#define RCVBUF (8 << 20)
#define HEADER 47 /* a 'P' frame's bytes before the payload, after its length */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define RESET 0x100
#define ALLOW 0x200
/* The connection of each recent payload packet, by id: what RESET destroys. */
#define RECENT 4096

static int nl, diag;
/* Where frames go and verdicts come from. */
static int in = 0, out = 1;
static struct recent {
  uint32_t id;
  unsigned char family;
  unsigned char ports[4];
  unsigned char src[16], dst[16];
} recent[RECENT];
/* Connections that may send up to a sequence number unread, by address and ports (open addressing). */
#define CONNS 4096
#define PROBES 8
#define KEY 37 /* family, ports, source, destination: a 'P' frame's bytes 4, 6-9, 14-45 */
static struct conn {
  unsigned char state; /* 0 empty, 1 in use, 2 forgotten (probing goes on past it) */
  unsigned char key[KEY];
  uint32_t allowed;
} conns[CONNS];
static uint16_t queue;
static uint32_t seqno;
static unsigned char rx[1 << 18];

static void die(const char *what) {
  fprintf(stderr, "wire-queue: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void put32(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void write_all(const void *data, size_t n) {
  const unsigned char *p = data;
  while (n > 0) {
    ssize_t w = write(out, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die("writing to buildfence");
    p += w;
    n -= (size_t)w;
  }
}

/* One netlink request to the queue subsystem: the header, nfgenmsg, then the attributes in buf. */
static void send_queue_msg(uint16_t type, uint16_t flags, const void *attrs, size_t attrs_len) {
  unsigned char msg[256];
  struct nlmsghdr *h = (struct nlmsghdr *)msg;
  struct nfgenmsg *g = (struct nfgenmsg *)NLMSG_DATA(h);
  size_t len = NLMSG_LENGTH(sizeof *g) + attrs_len;
  memset(msg, 0, NLMSG_LENGTH(sizeof *g));
  h->nlmsg_len = (uint32_t)len;
  h->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
  h->nlmsg_seq = ++seqno;
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = htons(queue);
  memcpy(msg + NLMSG_LENGTH(sizeof *g), attrs, attrs_len);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  while (sendto(nl, msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    if (errno != EINTR) die("sending to the kernel's queue");
  }
}

/* Appends one netlink attribute to buf at *off. */
static void attr(unsigned char *buf, size_t *off, uint16_t type, const void *data, uint16_t len) {
  struct nlattr *a = (struct nlattr *)(buf + *off);
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy(buf + *off + NLA_HDRLEN, data, len);
  memset(buf + *off + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
  *off += NLA_ALIGN(a->nla_len);
}

/* A configuration request, acknowledged: the kernel's answer must be success. */
static void configure(const void *attrs, size_t len, const char *what) {
  send_queue_msg(NFQNL_MSG_CONFIG, NLM_F_ACK, attrs, len);
  for (;;) {
    ssize_t n = recv(nl, rx, sizeof rx, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(what);
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seqno) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err == 0) return;
      errno = -err;
      die(what);
    }
  }
}

static void verdict(uint32_t id, uint32_t v, uint32_t mark) {
  unsigned char buf[64];
  size_t off = 0;
  struct nfqnl_msg_verdict_hdr vh = {.verdict = htonl(v), .id = htonl(id)};
  attr(buf, &off, NFQA_VERDICT_HDR, &vh, sizeof vh);
  if (mark != 0) {
    uint32_t m = htonl(mark);
    attr(buf, &off, NFQA_MARK, &m, sizeof m);
  }
  send_queue_msg(NFQNL_MSG_VERDICT, 0, buf, off);
}

/* Destroys the build's socket of a recent packet's connection (best effort: the rules reset it too). */
static void destroy(uint32_t id) {
  struct recent *r = &recent[id % RECENT];
  if (r->id != id) return;
  struct {
    struct nlmsghdr h;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.h.nlmsg_len = sizeof msg;
  msg.h.nlmsg_type = SOCK_DESTROY;
  msg.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  msg.req.sdiag_family = r->family == 4 ? AF_INET : AF_INET6;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0u;
  memcpy(&msg.req.id.idiag_sport, r->ports, 2);
  memcpy(&msg.req.id.idiag_dport, r->ports + 2, 2);
  memcpy(msg.req.id.idiag_src, r->src, 16);
  memcpy(msg.req.id.idiag_dst, r->dst, 16);
  msg.req.id.idiag_cookie[0] = msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(diag, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    fprintf(stderr, "wire-queue: cannot destroy a refused connection's socket: %s\n", strerror(errno));
    return;
  }
  unsigned char ack[512];
  ssize_t n = recv(diag, ack, sizeof ack, 0);
  struct nlmsghdr *h = (struct nlmsghdr *)ack;
  if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && h->nlmsg_type == NLMSG_ERROR) {
    int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    /* Gone already (the build closed it): nothing to destroy. */
    if (err != 0 && err != -ENOENT) fprintf(stderr, "wire-queue: cannot destroy a refused connection's socket: %s\n", strerror(-err));
  }
}

static uint32_t hash(const unsigned char *key) {
  uint32_t h = 2166136261u;
  for (int i = 0; i < KEY; i++) h = (h ^ key[i]) * 16777619u;
  return h;
}

/* The connection's entry; with `make`, one is made (over the first forgotten or empty one in
   reach, else over the first in reach: losing an allowance only sends packets to buildfence). */
static struct conn *find(const unsigned char *key, int make) {
  uint32_t h = hash(key);
  struct conn *spare = NULL;
  for (int i = 0; i < PROBES; i++) {
    struct conn *c = &conns[(h + (uint32_t)i) % CONNS];
    if (c->state == 1 && memcmp(c->key, key, KEY) == 0) return c;
    if (c->state != 1 && spare == NULL) spare = c;
    if (c->state == 0) break;
  }
  if (!make) return NULL;
  if (spare == NULL) spare = &conns[h % CONNS];
  spare->state = 1;
  memcpy(spare->key, key, KEY);
  return spare;
}

/* A frame's header (after its length and kind) as a connection key. */
static void key_of(const unsigned char *f, unsigned char *key) {
  key[0] = f[4];
  memcpy(key + 1, f + 6, 4);
  memcpy(key + 5, f + 14, 32);
}

static void allow(uint32_t id, uint32_t seq) {
  struct recent *r = &recent[id % RECENT];
  if (r->id != id) return;
  unsigned char key[KEY];
  key[0] = r->family;
  memcpy(key + 1, r->ports, 4);
  memcpy(key + 5, r->src, 16);
  memcpy(key + 21, r->dst, 16);
  find(key, 1)->allowed = seq;
}

static void apply(uint32_t id, uint32_t v, uint32_t mark) {
  if (v == ALLOW) {
    allow(id, mark);
    return;
  }
  if (v == RESET) {
    destroy(id);
    v = NF_REPEAT;
  }
  verdict(id, v, mark);
}

/*
 * One queued packet: find its TCP header and payload. Returns 0 when it cannot be read (then it
 * is dropped); fills the frame's header (after its length and kind) and the payload's bounds.
 */
static int parse(const unsigned char *ip, size_t len, unsigned char *f, const unsigned char **payload, size_t *plen) {
  size_t l4;
  unsigned proto;
  memset(f, 0, HEADER - 1);
  if (len < 20) return 0;
  if (ip[0] >> 4 == 4) {
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = (size_t)ip[2] << 8 | ip[3];
    /* A fragment (more fragments, or an offset) is not something the kernel's TCP sends. */
    if (ihl < 20 || total > len || total < ihl || (ip[6] & 0x3f) != 0 || ip[7] != 0) return 0;
    len = total;
    proto = ip[9];
    l4 = ihl;
    f[4] = 4;
    memcpy(f + 14, ip + 12, 4);
    memcpy(f + 30, ip + 16, 4);
  } else if (ip[0] >> 4 == 6) {
    if (len < 40) return 0;
    size_t total = 40 + ((size_t)ip[4] << 8 | ip[5]);
    if (total > len) return 0;
    len = total;
    proto = ip[6];
    l4 = 40;
    /* Hop-by-hop, routing and destination options are walked; anything else is not read. */
    while (proto == 0 || proto == 43 || proto == 60) {
      if (l4 + 8 > len) return 0;
      proto = ip[l4];
      l4 += ((size_t)ip[l4 + 1] + 1) * 8;
    }
    f[4] = 6;
    memcpy(f + 14, ip + 8, 16);
    memcpy(f + 30, ip + 24, 16);
  } else {
    return 0;
  }
  if (proto != 6 || l4 + 20 > len) return 0;
  const unsigned char *tcp = ip + l4;
  size_t doff = (size_t)(tcp[12] >> 4) * 4;
  if (doff < 20 || l4 + doff > len) return 0;
  f[5] = tcp[13];
  memcpy(f + 6, tcp, 4);     /* source and destination ports */
  memcpy(f + 10, tcp + 4, 4); /* sequence number */
  *payload = tcp + doff;
  *plen = len - l4 - doff;
  return 1;
}

static void packet(struct nlmsghdr *h) {
  struct nlattr *hdr = NULL, *data = NULL;
  size_t off = NLMSG_ALIGN(sizeof(struct nfgenmsg));
  size_t end = h->nlmsg_len - NLMSG_HDRLEN;
  unsigned char *base = NLMSG_DATA(h);
  while (off + NLA_HDRLEN <= end) {
    struct nlattr *a = (struct nlattr *)(base + off);
    if (a->nla_len < NLA_HDRLEN || off + a->nla_len > end) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) hdr = a;
    if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PAYLOAD) data = a;
    off += NLA_ALIGN(a->nla_len);
  }
  if (hdr == NULL || hdr->nla_len < NLA_HDRLEN + sizeof(struct nfqnl_msg_packet_hdr)) return;
  uint32_t id = ntohl(((struct nfqnl_msg_packet_hdr *)((unsigned char *)hdr + NLA_HDRLEN))->packet_id);
  unsigned char frame[4 + HEADER];
  const unsigned char *payload = NULL;
  size_t plen = 0;
  if (data == NULL || !parse((unsigned char *)data + NLA_HDRLEN, data->nla_len - NLA_HDRLEN, frame + 5, &payload, &plen)) {
    verdict(id, NF_DROP, 0);
    return;
  }
  unsigned flags = frame[5 + 5];
  unsigned char key[KEY];
  key_of(frame + 5, key);
  /* A plain acknowledgement (every one of a download's) neither uses nor ends an allowance. */
  struct conn *c = plen > 0 || (flags & (TCP_SYN | TCP_FIN | TCP_RST)) != 0 ? find(key, 0) : NULL;
  /* A new connection on these ports, or the end of this one: what was allowed is forgotten. */
  if (c != NULL && (flags & (TCP_SYN | TCP_FIN | TCP_RST)) != 0) c->state = 2;
  else if (c != NULL && plen > 0 && (int32_t)(get32(frame + 15) + (uint32_t)plen - c->allowed) <= 0) {
    verdict(id, NF_ACCEPT, 0);
    return;
  }
  if (plen == 0) {
    verdict(id, NF_ACCEPT, 0);
    if ((flags & (TCP_SYN | TCP_FIN | TCP_RST)) == 0) return;
    id = 0;
  }
  if (id != 0) {
    struct recent *r = &recent[id % RECENT];
    r->id = id;
    r->family = frame[9];
    memcpy(r->ports, frame + 11, 4);
    memcpy(r->src, frame + 19, 16);
    memcpy(r->dst, frame + 35, 16);
  }
  put32(frame, (uint32_t)(HEADER + plen));
  frame[4] = 'P';
  put32(frame + 5, id);
  write_all(frame, sizeof frame);
  if (plen > 0) write_all(payload, plen);
}

static void receive(void) {
  ssize_t n = recv(nl, rx, sizeof rx, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    /* Messages were lost: their packets stay queued, unverdicted, and their connections stall. */
    if (errno == ENOBUFS) {
      fprintf(stderr, "wire-queue: the kernel dropped queue messages (receive buffer full)\n");
      return;
    }
    die("reading the queue");
  }
  int len = (int)n;
  for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    if (h->nlmsg_type == NLMSG_ERROR) {
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err != 0) {
        errno = -err;
        die("a verdict was refused by the kernel");
      }
      continue;
    }
    if (h->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) packet(h);
  }
}

int main(int argc, char **argv) {
  char *end;
  long q = argc == 2 || argc == 3 ? strtol(argv[1], &end, 10) : -1;
  if (q < 0 || *end != '\0' || q > 65535) {
    fprintf(stderr, "usage: wire-queue QUEUE (0-65535) [SOCKET]\n");
    return 2;
  }
  if (argc == 3) {
    struct sockaddr_un to = {.sun_family = AF_UNIX};
    if (strlen(argv[2]) >= sizeof to.sun_path) {
      fprintf(stderr, "wire-queue: the socket path %s is too long\n", argv[2]);
      return 2;
    }
    strcpy(to.sun_path, argv[2]);
    in = out = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (in < 0 || connect(in, (struct sockaddr *)&to, sizeof to) < 0) die("connecting to buildfence's socket");
  }
  queue = (uint16_t)q;
  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (nl < 0) die("opening a netfilter netlink socket");
  struct sockaddr_nl self = {.nl_family = AF_NETLINK};
  if (bind(nl, (struct sockaddr *)&self, sizeof self) < 0) die("binding the netlink socket");
  int size = RCVBUF, on = 1;
  /* Best effort: the holder has NET_ADMIN for the forced size; the default is smaller, not wrong. */
  if (setsockopt(nl, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(nl, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(nl, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
  diag = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (diag < 0) die("opening a sock_diag netlink socket");

  unsigned char buf[128];
  size_t off = 0;
  struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND};
  attr(buf, &off, NFQA_CFG_CMD, &cmd, sizeof cmd);
  configure(buf, off, "binding the queue (is another reader bound to it?)");
  off = 0;
  struct nfqnl_msg_config_params params = {.copy_range = htonl(0xffff), .copy_mode = NFQNL_COPY_PACKET};
  attr(buf, &off, NFQA_CFG_PARAMS, &params, sizeof params);
  uint32_t maxlen = htonl(QUEUE_MAXLEN);
  attr(buf, &off, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
  /* A socket's large writes are queued as the kernel built them (up to 64 KiB, segmented later
     on the way out), not cut into segments first: an upload makes one trip per 64 KiB, not per
     1448 bytes. */
  uint32_t gso = htonl(NFQA_CFG_F_GSO);
  attr(buf, &off, NFQA_CFG_MASK, &gso, sizeof gso);
  attr(buf, &off, NFQA_CFG_FLAGS, &gso, sizeof gso);
  configure(buf, off, "configuring the queue");

  unsigned char ready[5] = {0, 0, 0, 1, 'R'};
  write_all(ready, sizeof ready);

  unsigned char input[4096];
  size_t have = 0;
  struct pollfd fds[2] = {{.fd = nl, .events = POLLIN}, {.fd = in, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("waiting for packets");
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(in, input + have, sizeof input - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("reading verdicts");
      if (n == 0) return 0; /* buildfence is gone: exiting unbinds the queue (fail closed) */
      have += (size_t)n;
      size_t at = 0;
      for (; have - at >= 12; at += 12) apply(get32(input + at), get32(input + at + 4), get32(input + at + 8));
      memmove(input, input + at, have - at);
      have -= at;
    }
    if (fds[0].revents & POLLIN) receive();
    else if (fds[0].revents & (POLLERR | POLLHUP)) receive();
  }
}
