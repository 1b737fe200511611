// A DNS server on loopback that plays the upstream resolver in tests: answers from a zone the
// test controls (and can change), and logs every message that reaches it, bytes and all. Like
// a recursive resolver, it gives answers without records (NXDOMAIN, NODATA) an SOA.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';

export interface ZoneRecord {
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  ttl?: number;
}

/** One message as it arrived; `name` and `type` are its first question's ('' when it has none or is undecodable). */
export interface Received {
  name: string;
  type: string;
  bytes: Buffer;
}

/** The SOA of every answer without records: negative TTL 30 s. */
const SOA: dnsPacket.Answer = {
  type: 'SOA',
  name: 'test',
  ttl: 30,
  data: { mname: 'ns.test', rname: 'hostmaster.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 30 },
};

export class TestUpstream {
  readonly zone = new Map<string, ZoneRecord>();
  readonly log: Received[] = [];
  private udp = dgram.createSocket('udp4');
  private tcp = net.createServer((s) => this.serveTcp(s));
  port = 0;
  host = '127.0.0.1';

  /** On loopback, or at `host`: an internal network's gateway, for a resolver in a container on it. */
  async start(host = '127.0.0.1'): Promise<this> {
    this.host = host;
    await new Promise<void>((r) => this.udp.bind(0, host, () => r()));
    this.port = this.udp.address().port;
    await new Promise<void>((r) => this.tcp.listen(this.port, host, () => r()));
    this.udp.on('message', (msg, rinfo) => this.udp.send(this.reply(msg), rinfo.port, rinfo.address));
    return this;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  asked(name: string): boolean {
    return this.log.some((q) => q.name === name);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.udp.close(() => r()));
    await new Promise<void>((r) => this.tcp.close(() => r()));
  }

  /** The reply to any message: what it cannot read or answer gets a bare FORMERR. */
  private reply(msg: Buffer): Buffer {
    let query: dnsPacket.Packet | undefined;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      // Logged below without a question.
    }
    const q = query?.questions?.[0];
    this.log.push({ name: q?.name.toLowerCase() ?? '', type: q ? String(q.type) : '', bytes: Buffer.from(msg) });
    try {
      if (query && q) return this.answer(query, q);
    } catch {
      // As below.
    }
    const formerr = Buffer.alloc(12);
    msg.copy(formerr, 0, 0, Math.min(2, msg.length));
    formerr.writeUInt16BE(0x8181, 2);
    return formerr;
  }

  private answer(query: dnsPacket.Packet, q: dnsPacket.Question): Buffer {
    const name = q.name.toLowerCase();
    const answers: dnsPacket.Answer[] = [];
    let current = name;
    for (let hops = 0; hops < 10; hops++) {
      const rec = this.zone.get(current);
      if (!rec) break;
      const ttl = rec.ttl ?? 30;
      if (rec.CNAME) {
        answers.push({ type: 'CNAME', name: current, ttl, data: rec.CNAME });
        current = rec.CNAME;
        continue;
      }
      if (q.type === 'A') for (const a of rec.A ?? []) answers.push({ type: 'A', name: current, ttl, data: a });
      if (q.type === 'AAAA') for (const a of rec.AAAA ?? []) answers.push({ type: 'AAAA', name: current, ttl, data: a });
      break;
    }
    const known = this.zone.has(name);
    return dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: query.questions,
      answers,
      authorities: answers.some((a) => a.type === q.type) ? [] : [SOA],
    });
  }

  private serveTcp(socket: net.Socket): void {
    let buf = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const reply = this.reply(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([len, reply]));
      }
    });
  }
}
