// Reads the server_name of a TLS ClientHello as it arrives, in any number of TCP segments and
// TLS records. Strict: the name decides where a connection may go, so a ClientHello that a
// server could read otherwise than this reader does (a second name, a repeated extension, bytes
// past the message, a hidden inner name) is refused, never guessed at. Pure: bytes in, verdict out.
import { clipped, readHostName } from './host-name.js';

/** The largest ClientHello read (the handshake message): real ones are under 2 KiB, 3 with post-quantum key shares. */
export const CLIENT_HELLO_LIMIT = 16 * 1024;

const RECORD_HEADER = 5;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;
/** encrypted_client_hello: the name the connection goes to is inside, encrypted; the outer one is not it. */
const EXT_ECH = 0xfe0d;
/** TLSPlaintext.length may not exceed 2^14. */
const RECORD_LIMIT = 16 * 1024;

export type HelloVerdict =
  | { kind: 'more' }
  | { kind: 'name'; name: string }
  /** `no-sni`: no single host_name the check can read; `detail` says why. */
  | { kind: 'refused'; reason: 'no-sni'; detail: string };

class Malformed extends Error {}

/** Feed it the client's bytes in order; it answers once the ClientHello is complete (or cannot be). */
export class ClientHelloReader {
  private pending: Buffer = Buffer.alloc(0);
  private readonly fragments: Buffer[] = [];
  private handshakeBytes = 0;
  /** The handshake message's length, once its header has arrived. */
  private size?: number;
  private verdict?: Exclude<HelloVerdict, { kind: 'more' }>;

  push(chunk: Buffer): HelloVerdict {
    if (this.verdict) return this.verdict;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      const message = this.records();
      if (!message) return { kind: 'more' };
      this.verdict = { kind: 'name', name: serverName(message) };
    } catch (err) {
      if (!(err instanceof Malformed)) throw err;
      this.verdict = { kind: 'refused', reason: 'no-sni', detail: err.message };
    }
    return this.verdict;
  }

  /** Takes every complete record; returns the ClientHello's body once all of it has arrived. */
  private records(): Buffer | undefined {
    while (this.pending.length >= RECORD_HEADER) {
      const type = this.pending[0];
      const length = this.pending.readUInt16BE(3);
      if (type !== CONTENT_HANDSHAKE) throw new Malformed(`a TLS record of type ${type} came before the ClientHello was complete`);
      if (this.pending[1] !== 3) throw new Malformed(`the TLS record's version ${this.pending[1]}.${this.pending[2]} is not TLS`);
      if (length === 0 || length > RECORD_LIMIT) throw new Malformed(`a TLS record of ${length} bytes`);
      if (this.pending.length < RECORD_HEADER + length) return undefined;
      this.fragments.push(this.pending.subarray(RECORD_HEADER, RECORD_HEADER + length));
      this.handshakeBytes += length;
      this.pending = this.pending.subarray(RECORD_HEADER + length);
      if (this.size === undefined && this.handshakeBytes >= 4) {
        const head = Buffer.concat(this.fragments).subarray(0, 4);
        if (head[0] !== HANDSHAKE_CLIENT_HELLO) throw new Malformed(`the first handshake message is of type ${head[0]}, not a ClientHello`);
        this.size = head.readUIntBE(1, 3);
        if (this.size > CLIENT_HELLO_LIMIT)
          throw new Malformed(`a ClientHello of ${this.size} bytes (at most ${CLIENT_HELLO_LIMIT} are read)`);
      }
      if (this.size === undefined) continue;
      if (this.handshakeBytes > 4 + this.size) throw new Malformed('bytes follow the ClientHello in its record');
      // One copy at the end: a ClientHello in one-byte records costs no more than one in a single record.
      if (this.handshakeBytes === 4 + this.size) return Buffer.concat(this.fragments).subarray(4);
    }
    // Nothing sent past the ClientHello's records is looked at: the verdict is made before.
    return undefined;
  }
}

/** The one host_name of a ClientHello body, or throws Malformed. */
function serverName(body: Buffer): string {
  const r = new Cursor(body);
  const major = r.u8();
  r.u8();
  if (major !== 3) throw new Malformed(`the ClientHello's version ${major} is not TLS`);
  r.skip(32);
  if (r.vector(1).length > 32) throw new Malformed('a session id longer than 32 bytes');
  const suites = r.vector(2);
  if (suites.length === 0 || suites.length % 2 !== 0) throw new Malformed('a malformed cipher suite list');
  if (r.vector(1).length === 0) throw new Malformed('no compression methods');
  if (r.done()) throw new Malformed('the ClientHello has no extensions, so no server_name');
  const extensions = new Cursor(r.vector(2));
  if (!r.done()) throw new Malformed('bytes follow the extensions');
  const seen = new Set<number>();
  let name: string | undefined;
  while (!extensions.done()) {
    const type = extensions.u16();
    const data = extensions.vector(2);
    if (seen.has(type)) throw new Malformed(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXT_ECH) throw new Malformed('an encrypted ClientHello (ECH) hides the name the connection is for');
    if (type === EXT_SERVER_NAME) name = hostName(data);
  }
  if (name === undefined) throw new Malformed('the ClientHello has no server_name');
  return name;
}

function hostName(data: Buffer): string {
  const ext = new Cursor(data);
  const list = new Cursor(ext.vector(2));
  if (!ext.done()) throw new Malformed('bytes follow the server_name list');
  const names: string[] = [];
  while (!list.done()) {
    const type = list.u8();
    const value = list.vector(2);
    if (type !== NAME_TYPE_HOST) throw new Malformed(`a server_name of type ${type}, not host_name`);
    names.push(value.toString('latin1'));
  }
  if (names.length !== 1) throw new Malformed(`the server_name extension holds ${names.length} names, not one`);
  const name = readHostName(names[0]);
  if (name === undefined || names[0].endsWith('.')) throw new Malformed(`the server_name '${clipped(names[0])}' is not a host name`);
  return name;
}

/** Reads big-endian fields and length-prefixed vectors; running past the end is Malformed. */
class Cursor {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  done(): boolean {
    return this.at === this.buf.length;
  }

  skip(n: number): void {
    if (this.at + n > this.buf.length) throw new Malformed('the ClientHello ends inside a field');
    this.at += n;
  }

  u8(): number {
    this.skip(1);
    return this.buf[this.at - 1];
  }

  u16(): number {
    this.skip(2);
    return this.buf.readUInt16BE(this.at - 2);
  }

  vector(lengthBytes: 1 | 2): Buffer {
    const n = lengthBytes === 1 ? this.u8() : this.u16();
    this.skip(n);
    return this.buf.subarray(this.at - n, this.at);
  }
}
