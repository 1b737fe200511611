// The filtering resolver: the only DNS the build can reach. A name the policy does not allow
// gets NXDOMAIN and never leaves the machine (block mode); an allowed name is forwarded, and the
// addresses of its answer are added to the holder's sets, with a timeout from the TTL, before
// the answer is returned.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { learnedPrefix, setMembers } from '../firewall/ruleset.js';
import type { NameEntry } from '../run/entry.js';
import { matchingEntries } from './match.js';
import { networkAnswer, type NetworkNames } from './network-names.js';
import { presented } from './presentation.js';
import { readAnswer, replayReply, storeReply, type Answer, type Learned, type StoredReply } from './message.js';
import { addressReply, localReply, readQuery, replyLimit, upstreamQuery, type Query } from './query.js';
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
  /**
   * An error while answering a query: a bug, which the query survives as a SERVFAIL and the run
   * should not (a warning when absent).
   */
  onError?(err: unknown): void;
  /** Every decision as it is made or counted again (a Pod's resolver prints them for the runtime). */
  onDecision?(decision: DnsDecision): void;
  /** The sandbox network's container names (service containers), answered from this table and never forwarded. */
  networkNames?: NetworkNames;
}

/** A query's bytes after its id, read once: the question and the policy's verdict on its name. */
interface Asked {
  name: string;
  type: string;
  query: Query;
  /** The cache key: type, DO bit and the name in lower case; a replay takes each query's own case. */
  key: string;
  /** What is sent upstream for it (a forwarded query is rebuilt, never relayed). */
  upstream?: Buffer;
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
/** Queries up to this size are read once per distinct bytes; larger ones (never a forwarded query) every time. */
const KEYED_QUERY_BYTES = 512;
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
    const now = Date.now();
    const q = asked.query;
    if (q.local) {
      this.record(asked, now, []);
      return localReply(query, q, q.local.rcode);
    }
    if (!asked.permitted && this.options.mode === 'block') {
      this.record(asked, now, []);
      return localReply(query, q, 'NXDOMAIN');
    }
    if (asked.network) {
      const answers = networkAnswer(asked.network, asked.type);
      this.record(asked, now, answers);
      return addressReply(query, q, answers, replyLimit(q, transport));
    }
    const cached = this.cache[transport].get(asked.key);
    const age = cached ? Math.floor((now - cached.storedAt) / 1000) : 0;
    if (!cached || age >= cached.answer.minTtl) return this.forward(query, transport, asked, now);
    // A replay refreshes the set timeouts only when they would otherwise end before the TTLs it hands out.
    if (asked.permitted && cached.fedUntil < now + this.timeout(cached.addressTtl - age) * 1000 - 1000) {
      return this.refresh(query, transport, asked, cached, age);
    }
    this.record(asked, now, cached.answer.addresses);
    return replayReply(cached.reply, query, q, age, replyLimit(q, transport));
  }

  /** The question and verdict of `query`, read the first time its bytes (after the id) are seen. */
  private read(query: Buffer): Asked {
    const bytes = query.length <= KEYED_QUERY_BYTES ? query.toString('latin1', 2) : undefined;
    const known = bytes === undefined ? undefined : this.asked.get(bytes);
    if (known) return known;
    const q = readQuery(query);
    const name = q.question?.name ?? '';
    const type = q.question?.type ?? '';
    let asked: Asked;
    if (q.local || !q.question) {
      const reason = q.local?.reason ?? 'malformed';
      asked = {
        name,
        type,
        query: q,
        key: '',
        allowedBy: [],
        permitted: false,
        decided: { name, type, verdict: 'refused', forwarded: false, reason },
      };
    } else {
      const allowedBy = matchingEntries(this.options.allow, q.question.matchName);
      const permitted = allowedBy.length > 0 && matchingEntries(this.options.deny, q.question.matchName).length === 0;
      if (permitted || this.options.mode !== 'block') for (const e of allowedBy) this.resolved.add(e);
      const dnssecOk = q.edns?.dnssecOk ?? false;
      // A container's name on the network is answered from the engine's view of it, never upstream.
      const network = this.options.networkNames?.lookup(q.question.matchName);
      const forwarded = !network && (permitted || this.options.mode !== 'block');
      asked = {
        name,
        type,
        query: q,
        key: `${type} ${dnssecOk ? 'do' : '-'} ${q.question.wireName}`,
        ...(forwarded ? { upstream: upstreamQuery(q.question, dnssecOk) } : {}),
        allowedBy,
        permitted,
        ...(network ? { network } : {}),
        decided: { name, type, verdict: permitted ? 'allowed' : this.options.mode === 'block' ? 'refused' : 'audited', forwarded },
      };
    }
    if (bytes !== undefined) bounded(this.asked, bytes, asked);
    return asked;
  }

  private async forward(query: Buffer, transport: 'udp' | 'tcp', asked: Asked, now: number): Promise<Buffer> {
    const q = asked.query;
    let stored: StoredReply;
    let answer: Answer;
    let entry: CacheEntry | undefined;
    try {
      const reply = await this.options.forwarder.forward(asked.upstream!, transport);
      // Throws unless the reply answers the question sent: the query's case is patched into it.
      stored = storeReply(reply, q.question!);
      answer = readAnswer(reply, asked.name);
      if (answer.minTtl > 0 && !answer.truncated) {
        const addressTtl = Math.max(0, ...answer.addresses.map((a) => a.ttl));
        entry = { reply: stored, answer, storedAt: now, addressTtl, fedUntil: 0 };
        bounded(this.cache[transport], asked.key, entry);
      }
    } catch (err) {
      this.options.onWarning?.(`DNS ${asked.type} ${presented(asked.name)}: ${err instanceof Error ? err.message : String(err)}`);
      return localReply(query, q, 'SERVFAIL');
    }
    if (asked.permitted) {
      try {
        const fedUntil = await this.learn(asked.allowedBy, answer.addresses, 0);
        if (entry) entry.fedUntil = Math.max(entry.fedUntil, fedUntil);
      } catch (err) {
        // Answering would hand out an address the fence does not open: fail the lookup instead.
        this.options.onWarning?.(`DNS ${asked.type} ${presented(asked.name)}: ${err instanceof Error ? err.message : String(err)}`);
        return localReply(query, q, 'SERVFAIL');
      }
    }
    this.record(asked, Date.now(), answer.addresses);
    return replayReply(stored, query, q, 0, replyLimit(q, transport));
  }

  /** A replay whose addresses must be fed again first. */
  private async refresh(query: Buffer, transport: 'udp' | 'tcp', asked: Asked, cached: CacheEntry, age: number): Promise<Buffer> {
    try {
      const fedUntil = await this.learn(asked.allowedBy, cached.answer.addresses, age);
      cached.fedUntil = Math.max(cached.fedUntil, fedUntil);
    } catch (err) {
      this.options.onWarning?.(`DNS ${asked.type} ${presented(asked.name)}: ${err instanceof Error ? err.message : String(err)}`);
      return localReply(query, asked.query, 'SERVFAIL');
    }
    this.record(asked, Date.now(), cached.answer.addresses);
    return replayReply(cached.reply, query, asked.query, age, replyLimit(asked.query, transport));
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
        for (const m of setMembers(addr.family, net, entry.protocols, entry.ports, learnedPrefix(entry))) {
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

  /**
   * The reply to one message, whatever happens on the way: an error while answering is a
   * SERVFAIL and a warning, never an exception (one message must not end the resolver).
   */
  private reply(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer> {
    const failed = (err: unknown) => {
      if (this.options.onError) this.options.onError(err);
      else
        this.options.onWarning?.(
          `The resolver failed to answer a query (answered SERVFAIL): ${err instanceof Error ? err.message : String(err)}`,
        );
      return localReply(msg, readQuery(msg), 'SERVFAIL');
    };
    try {
      const reply = this.answer(msg, transport);
      return Buffer.isBuffer(reply) ? reply : reply.catch(failed);
    } catch (err) {
      return failed(err);
    }
  }

  private serveUdp(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.clients.has(rinfo.address)) return;
    // send() throws once the socket is closed (a reply still under way at the teardown).
    const send = (r: Buffer) => {
      try {
        socket.send(r, rinfo.port, rinfo.address);
      } catch {
        // The run is over; nobody waits for this reply.
      }
    };
    const reply = this.reply(msg, 'udp');
    if (Buffer.isBuffer(reply)) send(reply);
    else void reply.then(send);
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
    // Chunks are joined only once a whole message is in: a message sent a byte at a time costs no more.
    let chunks: Buffer[] = [];
    let size = 0;
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      for (;;) {
        if (size < 2) return;
        if (chunks[0].length < 2) chunks = [Buffer.concat(chunks, size)];
        const end = 2 + chunks[0].readUInt16BE(0);
        if (size < end) return;
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        const query = Buffer.from(all.subarray(2, end));
        chunks = size > end ? [all.subarray(end)] : [];
        size -= end;
        // Every reply fits a frame: replies made here hold at most 282 bytes, replays are cut to 65,535 (replyLimit).
        void Promise.resolve(this.reply(query, 'tcp')).then((reply) => {
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
