// The filtering resolver: the only DNS the build can reach. A name the policy does not allow
// gets NXDOMAIN and never leaves the machine (block mode); an allowed name is forwarded, and the
// addresses of its answer are added to the holder's sets, with a timeout from the TTL, before
// the answer is returned.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { setMembers } from '../firewall/ruleset.js';
import type { Entry, Mode, NameEntry } from '../types.js';
import { matchingEntries } from './match.js';
import { errorReply, MalformedQuery, parseQuery, readAnswer, replayAnswer, type Answer, type Learned } from './message.js';
import type { Forwarder } from './upstream.js';
import type { TimedMember } from './feed.js';

/** Where learned set elements go (the holder's SetFeed). */
export interface MemberSink {
  add(members: TimedMember[]): Promise<void>;
}

export interface ResolverOptions {
  mode: Mode;
  allow: Entry[];
  deny: Entry[];
  /** Clamp for the timeout of learned addresses, in seconds. */
  ttlMin: number;
  ttlMax: number;
  forwarder: Forwarder;
  onWarning?(message: string): void;
  /** Every decision as it is made or counted again (a Pod's resolver prints them for the runtime). */
  onDecision?(decision: DnsDecision): void;
}

export interface DnsDecision {
  name: string;
  type: string;
  /** What the policy says; in audit mode a refused name is still forwarded. */
  verdict: 'allowed' | 'refused';
  forwarded: boolean;
  addresses: string[];
  count: number;
  first: string;
  last: string;
}

interface CacheEntry {
  reply: Buffer;
  answer: Answer;
  storedAt: number;
}

const CACHE_LIMIT = 10_000;
const TCP_IDLE_MS = 10_000;

export class Resolver {
  private readonly decisions = new Map<string, DnsDecision>();
  private readonly cache = new Map<string, CacheEntry>();
  /** When each learned set element expires in the kernel (ms), so unneeded refreshes are skipped. */
  private readonly expiry = new Map<string, number>();
  /** Names each learned address was given for: the report shows a denied address's name. */
  readonly namesOf = new Map<string, Set<string>>();
  private readonly resolved = new Set<NameEntry>();
  private clients = new Set<string>();
  private feed?: MemberSink;
  /** Set elements loaded permanently with the rules: a learned address never gives them a timeout. */
  private staticElements = new Set<string>();
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: ResolverOptions) {}

  /** Listens on `address` (UDP and TCP, the same port: `port`, or a free one); returns the port. */
  async listen(address: string, port = 0): Promise<number> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const udp = dgram.createSocket('udp4');
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(port, address, () => resolve());
        });
        const bound = udp.address().port;
        const tcp = net.createServer((s) => this.serveTcp(s));
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(bound, address, () => resolve());
        });
        udp.on('message', (msg, rinfo) => void this.serveUdp(udp, msg, rinfo));
        udp.on('error', (err) => this.options.onWarning?.(`resolver UDP socket: ${err.message}`));
        this.udp = udp;
        this.tcp = tcp;
        return bound;
      } catch (err) {
        lastError = err;
        udp.close();
      }
    }
    throw new Error(`Cannot start the resolver on ${address}: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  /** Starts answering. Only the holder's addresses are served: other containers on a shared network are not. */
  serve(clients: string[], feed: MemberSink, staticElements: Set<string>): void {
    this.clients = new Set(clients);
    this.feed = feed;
    this.staticElements = staticElements;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
  }

  decisionLog(): DnsDecision[] {
    return [...this.decisions.values()];
  }

  /** Name entries no query matched during the run. */
  unresolvedEntries(): NameEntry[] {
    return this.options.allow.filter((e): e is NameEntry => e.kind === 'name' && !this.resolved.has(e));
  }

  /** Answers one query that came over `transport`. */
  async answer(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    let q;
    try {
      q = parseQuery(query);
    } catch (err) {
      if (err instanceof MalformedQuery) return errorReply(query, 'FORMERR');
      throw err;
    }
    const allowedBy = matchingEntries(this.options.allow, q.name);
    const permitted = allowedBy.length > 0 && matchingEntries(this.options.deny, q.name).length === 0;
    if (!permitted && this.options.mode === 'block') {
      this.record(q.name, q.type, 'refused', false, []);
      return errorReply(query, 'NXDOMAIN');
    }
    for (const e of allowedBy) this.resolved.add(e);

    const key = `${q.type} ${q.name}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    const age = cached ? Math.floor((now - cached.storedAt) / 1000) : 0;
    let reply: Buffer;
    let answer: Answer;
    if (cached && age < cached.answer.minTtl) {
      reply = replayAnswer(cached.reply, q.id, age);
      answer = { ...cached.answer, addresses: cached.answer.addresses.map((a) => ({ ...a, ttl: a.ttl - age })) };
    } else {
      try {
        reply = await this.options.forwarder.forward(query, transport);
        answer = readAnswer(reply, q.name);
      } catch (err) {
        this.options.onWarning?.(`DNS ${q.type} ${q.name}: ${err instanceof Error ? err.message : String(err)}`);
        return errorReply(query, 'SERVFAIL');
      }
      if (answer.minTtl > 0 && !answer.truncated) this.store(key, { reply, answer, storedAt: now });
    }

    if (permitted) {
      try {
        await this.learn(allowedBy, answer.addresses, q.name);
      } catch (err) {
        // Answering would hand out an address the fence does not open: fail the lookup instead.
        this.options.onWarning?.(`DNS ${q.type} ${q.name}: ${err instanceof Error ? err.message : String(err)}`);
        return errorReply(query, 'SERVFAIL');
      }
    }
    this.record(q.name, q.type, permitted ? 'allowed' : 'refused', true, answer.addresses.map((a) => a.address));
    return reply;
  }

  private async learn(entries: NameEntry[], addresses: Learned[], name: string): Promise<void> {
    const now = Date.now();
    const members: TimedMember[] = [];
    for (const addr of addresses) {
      const names = this.namesOf.get(addr.address) ?? new Set<string>();
      names.add(name);
      this.namesOf.set(addr.address, names);
      const timeout = Math.min(this.options.ttlMax, Math.max(this.options.ttlMin, addr.ttl));
      const net = `${addr.address}/${addr.family === 4 ? 32 : 128}`;
      for (const entry of entries) {
        for (const m of setMembers(addr.family, net, entry.protocols, entry.ports)) {
          const key = `${m.set} ${m.element}`;
          if (this.staticElements.has(key)) continue;
          const expires = now + timeout * 1000;
          // A refresh that would not extend the element (by a second or more) is not sent.
          if ((this.expiry.get(key) ?? 0) >= expires - 1000) continue;
          this.expiry.set(key, expires);
          members.push({ ...m, timeout });
        }
      }
    }
    if (members.length === 0) return;
    if (!this.feed) throw new Error('no set feed into the holder');
    await this.feed.add(members);
  }

  private store(key: string, entry: CacheEntry): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, entry);
  }

  private record(name: string, type: string, verdict: DnsDecision['verdict'], forwarded: boolean, addresses: string[]): void {
    const key = `${verdict} ${type} ${name}`;
    const now = new Date().toISOString();
    const d = this.decisions.get(key);
    if (d) {
      d.count++;
      d.last = now;
      d.addresses = [...new Set([...d.addresses, ...addresses])];
    } else {
      this.decisions.set(key, { name, type, verdict, forwarded, addresses, count: 1, first: now, last: now });
    }
    this.options.onDecision?.(this.decisions.get(key)!);
  }

  private async serveUdp(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    if (!this.clients.has(rinfo.address)) return;
    const reply = await this.answer(msg, 'udp');
    socket.send(reply, rinfo.port, rinfo.address);
  }

  private serveTcp(socket: net.Socket): void {
    const remote = socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    if (!this.clients.has(remote)) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const query = buffer.subarray(2, 2 + buffer.readUInt16BE(0));
        buffer = buffer.subarray(2 + query.length);
        void this.answer(Buffer.from(query), 'tcp').then((reply) => {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          if (!socket.destroyed) socket.write(Buffer.concat([len, reply]));
        });
      }
    });
  }
}
