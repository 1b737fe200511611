// The filtering resolver: the only DNS the build can reach. A name the policy does not allow
// gets NXDOMAIN and never leaves the machine (block mode); an allowed name is forwarded, and the
// addresses of its answer are added to the holder's sets, with a timeout from the TTL, before
// the answer is returned.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { setMembers } from '../firewall/ruleset.js';
import type { NameEntry } from '../run/entry.js';
import { matchingEntries } from './match.js';
import { networkAnswer, networkReply, type NetworkNames } from './network-names.js';
import { presented } from './presentation.js';
import {
  errorReply,
  MalformedQuery,
  parseQuery,
  readAnswer,
  replayReply,
  storeReply,
  type Answer,
  type Learned,
  type StoredReply,
} from './message.js';
import { AddressNames, asDecision, DecisionLog, type Decided, type DnsDecision, type NamesOf, type Tally } from './decision-log.js';
import type { ResolverSettings } from './settings.js';
import type { Forwarder } from './upstream.js';
import type { TimedMember } from './feed.js';

/** Where learned set elements go (the holder's SetFeed). */
export interface MemberSink {
  add(members: TimedMember[]): Promise<void>;
}

export interface ResolverOptions extends ResolverSettings {
  forwarder: Forwarder;
  onWarning?(message: string): void;
  /** Every decision as it is made or counted again (a Pod's resolver prints them for the runtime). */
  onDecision?(decision: DnsDecision): void;
  /** The sandbox network's container names (service containers), answered from this table and never forwarded. */
  networkNames?: NetworkNames;
}

/** A query's bytes after its id, read once: the question and the policy's verdict on its name. */
interface Asked {
  name: string;
  type: string;
  /** The cache key: the type and the name as sent, so a cached reply's question takes the query's case. */
  key: string;
  wireName: string;
  allowedBy: NameEntry[];
  permitted: boolean;
  /** A container's name on the sandbox network: its addresses there. */
  network?: string[];
  /** What the decision log counts it as, and its row once there is one. */
  decided: Decided;
  tally?: Tally;
}

interface CacheEntry {
  reply: StoredReply;
  answer: Answer;
  storedAt: number;
  /** The longest TTL among the answer's addresses (one RRset: they share it), for the refresh check. */
  addressTtl: number;
  /** Until when (ms) the holder's sets hold every element of the answer's addresses, as far as this resolver fed them. */
  fedUntil: number;
}

/** A learned set element: when it expires in the kernel (ms), and the batch that puts it there. */
interface Element {
  expires: number;
  added: Promise<void>;
}

const CACHE_LIMIT = 10_000;
const TCP_IDLE_MS = 10_000;

export class Resolver {
  private readonly log = new DecisionLog();
  private readonly asked = new Map<string, Asked>();
  /** Per transport: an answer fetched over TCP may be too large to replay to a UDP client. */
  private readonly cache = { udp: new Map<string, CacheEntry>(), tcp: new Map<string, CacheEntry>() };
  /** Learned set elements, so refreshes that would not extend them are skipped. */
  private readonly elements = new Map<string, Element>();
  /** Names each answered address was given for (audit mode too): the report shows a connection's names. */
  private readonly names = new AddressNames();
  readonly namesOf: NamesOf = this.names.map;
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
      // Addresses only, never names: without a lookup of its own, dgram defers every reply by a tick to look up the client's address.
      const udp = dgram.createSocket({ type: 'udp4', lookup: (host, _family, callback) => callback(null, host, 4) });
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
        udp.on('message', (msg, rinfo) => this.serveUdp(udp, msg, rinfo));
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
    return this.log.decisions();
  }

  /** Name entries no query matched during the run. */
  unresolvedEntries(): NameEntry[] {
    return this.options.allow.filter((e): e is NameEntry => e.kind === 'name' && !this.resolved.has(e));
  }

  /**
   * Answers one query that came over `transport`. A cached answer whose addresses the holder's sets
   * already hold long enough is answered at once, not in a later tick.
   */
  answer(query: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer> {
    const asked = this.read(query);
    if (!asked) return errorReply(query, 'FORMERR');
    const now = Date.now();
    if (!asked.permitted && this.options.mode === 'block') {
      this.record(asked, now, []);
      return errorReply(query, 'NXDOMAIN');
    }
    if (asked.network) {
      const answers = networkAnswer(asked.network, asked.type);
      this.record(asked, now, answers);
      return networkReply(query, answers);
    }
    const cached = this.cache[transport].get(asked.key);
    const age = cached ? Math.floor((now - cached.storedAt) / 1000) : 0;
    if (!cached || age >= cached.answer.minTtl) return this.forward(query, transport, asked, now);
    // A replay refreshes the set timeouts only when they would otherwise end before the TTLs it hands out.
    if (asked.permitted && cached.fedUntil < now + this.timeout(cached.addressTtl - age) * 1000 - 1000) {
      return this.refresh(query, asked, cached, age);
    }
    this.record(asked, now, cached.answer.addresses);
    return replayReply(cached.reply, query, age);
  }

  /** The question and verdict of `query`, decoded in full the first time its bytes (after the id) are seen; undefined when malformed. */
  private read(query: Buffer): Asked | undefined {
    const bytes = query.toString('latin1', 2);
    const known = this.asked.get(bytes);
    if (known) return known;
    let q;
    try {
      q = parseQuery(query);
    } catch (err) {
      if (err instanceof MalformedQuery) return undefined;
      throw err;
    }
    const allowedBy = matchingEntries(this.options.allow, q.name);
    const permitted = allowedBy.length > 0 && matchingEntries(this.options.deny, q.name).length === 0;
    if (permitted || this.options.mode !== 'block') for (const e of allowedBy) this.resolved.add(e);
    const verdict = permitted ? 'allowed' : this.options.mode === 'block' ? 'refused' : 'audited';
    const network = this.options.networkNames?.lookup(q.name);
    const asked: Asked = {
      name: q.name,
      type: q.type,
      key: `${q.type} ${q.wireName}`,
      wireName: q.wireName,
      allowedBy,
      permitted,
      ...(network ? { network } : {}),
      decided: { name: q.name, type: q.type, verdict, forwarded: !network && (permitted || this.options.mode !== 'block') },
    };
    bounded(this.asked, bytes, asked);
    return asked;
  }

  private async forward(query: Buffer, transport: 'udp' | 'tcp', asked: Asked, now: number): Promise<Buffer> {
    let reply: Buffer;
    let answer: Answer;
    let entry: CacheEntry | undefined;
    try {
      reply = await this.options.forwarder.forward(query, transport);
      answer = readAnswer(reply, asked.name);
      if (answer.minTtl > 0 && !answer.truncated) {
        const stored = storeReply(reply);
        // A reply whose question is not the one asked is passed on, not replayed to others.
        if (stored.wireName === asked.wireName) {
          const addressTtl = Math.max(0, ...answer.addresses.map((a) => a.ttl));
          entry = { reply: stored, answer, storedAt: now, addressTtl, fedUntil: 0 };
          bounded(this.cache[transport], asked.key, entry);
        }
      }
    } catch (err) {
      this.options.onWarning?.(`DNS ${asked.type} ${presented(asked.name)}: ${err instanceof Error ? err.message : String(err)}`);
      return errorReply(query, 'SERVFAIL');
    }
    if (asked.permitted) {
      try {
        const fedUntil = await this.learn(asked.allowedBy, answer.addresses, 0);
        if (entry) entry.fedUntil = Math.max(entry.fedUntil, fedUntil);
      } catch (err) {
        // Answering would hand out an address the fence does not open: fail the lookup instead.
        this.options.onWarning?.(`DNS ${asked.type} ${presented(asked.name)}: ${err instanceof Error ? err.message : String(err)}`);
        return errorReply(query, 'SERVFAIL');
      }
    }
    this.record(asked, Date.now(), answer.addresses);
    return reply;
  }

  /** A replay whose addresses must be fed again first. */
  private async refresh(query: Buffer, asked: Asked, cached: CacheEntry, age: number): Promise<Buffer> {
    try {
      const fedUntil = await this.learn(asked.allowedBy, cached.answer.addresses, age);
      cached.fedUntil = Math.max(cached.fedUntil, fedUntil);
    } catch (err) {
      this.options.onWarning?.(`DNS ${asked.type} ${presented(asked.name)}: ${err instanceof Error ? err.message : String(err)}`);
      return errorReply(query, 'SERVFAIL');
    }
    this.record(asked, Date.now(), cached.answer.addresses);
    return replayReply(cached.reply, query, age);
  }

  /** The set timeout for a TTL: clamped to the floor and the ceiling. */
  private timeout(ttl: number): number {
    return Math.min(this.options.ttlMax, Math.max(this.options.ttlMin, ttl));
  }

  /**
   * Feeds the addresses (their TTLs lowered by `elapsed` seconds) into the sets of `entries`;
   * resolves once the kernel holds every element, also those another query is feeding, with the
   * earliest time (ms) one of them expires.
   */
  private async learn(entries: NameEntry[], addresses: Learned[], elapsed: number): Promise<number> {
    const now = Date.now();
    const members: TimedMember[] = [];
    const fresh: Array<[string, number]> = [];
    const waits = new Set<Promise<void>>();
    let fedUntil = Infinity;
    for (const addr of addresses) {
      const timeout = this.timeout(addr.ttl - elapsed);
      const expires = now + timeout * 1000;
      const net = `${addr.address}/${addr.family === 4 ? 32 : 128}`;
      for (const entry of entries) {
        for (const m of setMembers(addr.family, net, entry.protocols, entry.ports)) {
          const key = `${m.set} ${m.element}`;
          if (this.staticElements.has(key)) continue;
          const known = this.elements.get(key);
          // A refresh that would not extend the element (by a second or more) is not sent.
          if (known && known.expires >= expires - 1000) {
            waits.add(known.added);
            fedUntil = Math.min(fedUntil, known.expires);
            continue;
          }
          members.push({ ...m, timeout });
          fresh.push([key, expires]);
          fedUntil = Math.min(fedUntil, expires);
        }
      }
    }
    if (members.length > 0) {
      if (!this.feed) throw new Error('no set feed into the holder');
      const added = this.feed.add(members);
      // Bounded like the cache: an element forgotten while it still holds is only fed again.
      for (const [key, expires] of fresh) bounded(this.elements, key, { expires, added });
      // A batch that failed holds nothing: the next query for these elements sends them again.
      added.catch(() => {
        for (const [key] of fresh) if (this.elements.get(key)?.added === added) this.elements.delete(key);
      });
      waits.add(added);
    }
    await Promise.all(waits);
    return fedUntil;
  }

  private record(asked: Asked, now: number, addresses: Learned[]): void {
    const t = (asked.tally ??= this.log.row(asked.decided, now));
    this.log.count(t, now, addresses);
    this.names.note(addresses, asked.name, now);
    this.options.onDecision?.(asDecision(t));
  }

  private serveUdp(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.clients.has(rinfo.address)) return;
    const reply = this.answer(msg, 'udp');
    if (Buffer.isBuffer(reply)) socket.send(reply, rinfo.port, rinfo.address);
    else void reply.then((r) => socket.send(r, rinfo.port, rinfo.address));
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
        void Promise.resolve(this.answer(Buffer.from(query), 'tcp')).then((reply) => {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          if (!socket.destroyed) socket.write(Buffer.concat([len, reply]));
        });
      }
    });
  }
}

/**
 * Adds to a map that keeps at most CACHE_LIMIT entries. A full map forgets its oldest tenth at
 * once: forgetting one entry per insertion costs each a scan over the holes that the earlier
 * deletions left at the map's start (measured: 8 µs per insertion at 10,000 entries).
 */
function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= CACHE_LIMIT && !map.has(key)) {
    let forget = CACHE_LIMIT / 10;
    for (const old of map.keys()) {
      map.delete(old);
      if (--forget === 0) break;
    }
  }
  map.set(key, value);
}
