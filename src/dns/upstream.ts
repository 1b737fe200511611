// Forwarding queries to the upstream resolvers: one UDP socket per family shared by every query
// (ids are remapped), TCP when an answer comes back truncated.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import { randomInt } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { inputLabel, type RunSpec, type Upstream } from '../run/spec.js';

/**
 * `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`, one per item. Names
 * are refused: the resolver must not need a resolver.
 */
export function parseUpstreams(items: string[], source: string): Upstream[] {
  return items.map((item) => {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(item) ?? /^([^:]+):(\d+)$/.exec(item);
    const [host, port] = m ? [m[1], Number(m[2])] : [item, 53];
    if (!ipaddr.isValid(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(
        `${source} has invalid resolver '${item}'. Expected an IP address with an optional port: 192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53.`,
      );
    }
    return { address: ipaddr.parse(host).toString(), port };
  });
}

/** The `nameserver` lines of a resolv.conf. */
export function resolvConfServers(text: string): Upstream[] {
  const servers: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1].replace(/%.*$/, '');
    if (host && ipaddr.isValid(host)) servers.push({ address: ipaddr.parse(host).toString(), port: 53 });
  }
  return servers;
}

/** The resolvers this machine uses: the default upstream. */
export async function hostResolvers(label: string): Promise<Upstream[]> {
  const servers = resolvConfServers(await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
  if (servers.length === 0) {
    throw new Error(`The host's /etc/resolv.conf names no resolver to forward allowed names to. Set ${label}.`);
  }
  return servers;
}

/** Where a run's allowed names are resolved: the upstreams it names, else the host's. */
export async function upstreamsFor(spec: Pick<RunSpec, 'dns' | 'via'>): Promise<Upstream[]> {
  return spec.dns.upstreams ?? hostResolvers(inputLabel(spec.via, 'dns-upstream'));
}

interface Pending {
  upstream: Upstream;
  resolve(reply: Buffer): void;
  timer: NodeJS.Timeout;
}

export class Forwarder {
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly upstreams: Upstream[],
    private readonly timeoutMs = 2000,
  ) {
    if (upstreams.length === 0) throw new Error('No upstream resolver: set dns-upstream.');
  }

  /**
   * The upstream's reply to `query` (with the query's own id; upstream, each attempt has a fresh
   * random one), from the first upstream that answers. A truncated UDP answer is fetched whole over TCP only for a client that asked over
   * TCP; a UDP client gets the truncated answer and retries over TCP itself.
   */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    for (const upstream of this.upstreams) {
      const reply = await this.udp(upstream, query);
      if (!reply) continue;
      if (transport === 'tcp' && reply.length >= 3 && (reply[2] & 0x02) !== 0) {
        const full = await this.tcp(upstream, query).catch(() => undefined);
        if (full) return full;
      }
      return reply;
    }
    throw new Error(`no upstream resolver answered (${this.upstreams.map((u) => `${u.address}:${u.port}`).join(', ')})`);
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (!s) {
      s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
      s.on('message', (msg, rinfo) => this.onReply(msg, rinfo));
      s.on('error', () => undefined);
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private onReply(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    // Only the upstream that was asked may answer: anything else is a spoofing attempt.
    if (!p || ipaddr.parse(rinfo.address).toString() !== p.upstream.address || rinfo.port !== p.upstream.port) return;
    this.pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  private udp(upstream: Upstream, query: Buffer): Promise<Buffer | undefined> {
    const originalId = query.readUInt16BE(0);
    let id: number;
    do id = randomInt(0, 65536);
    while (this.pending.has(id));
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(id, {
        upstream,
        timer,
        resolve: (reply) => {
          reply.writeUInt16BE(originalId, 0);
          resolve(reply);
        },
      });
      const family = ipaddr.parse(upstream.address).kind() === 'ipv4' ? 4 : 6;
      this.socket(family).send(out, upstream.port, upstream.address);
    });
  }

  private tcp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    const originalId = query.readUInt16BE(0);
    const id = randomInt(0, 65536);
    const out = Buffer.alloc(2 + query.length);
    out.writeUInt16BE(query.length, 0);
    query.copy(out, 2);
    out.writeUInt16BE(id, 2);
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: upstream.address, port: upstream.port });
      const chunks: Buffer[] = [];
      sock.setTimeout(this.timeoutMs, () => sock.destroy(new Error('TCP timeout')));
      sock.on('connect', () => sock.end(out));
      sock.on('data', (d) => chunks.push(d));
      sock.on('error', reject);
      sock.on('close', () => {
        const all = Buffer.concat(chunks);
        if (all.length < 14 || all.length < 2 + all.readUInt16BE(0)) return reject(new Error('short TCP reply'));
        if (all.readUInt16BE(2) !== id) return reject(new Error('TCP reply with another id'));
        const reply = Buffer.from(all.subarray(2, 2 + all.readUInt16BE(0)));
        reply.writeUInt16BE(originalId, 0);
        resolve(reply);
      });
    });
  }
}
