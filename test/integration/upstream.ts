// A DNS server on loopback that plays the upstream resolver in tests: answers from a zone the
// test controls (and can change), and logs every query that reaches it.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';

export interface ZoneRecord {
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  ttl?: number;
}

export class TestUpstream {
  readonly zone = new Map<string, ZoneRecord>();
  readonly log: Array<{ name: string; type: string }> = [];
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

  private reply(msg: Buffer): Buffer {
    const query = dnsPacket.decode(msg);
    const q = query.questions![0];
    const name = q.name.toLowerCase();
    this.log.push({ name, type: q.type });
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
