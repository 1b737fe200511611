// Finds the Host of every HTTP/1.x request a client sends on one connection, following the
// message framing (Content-Length, chunked) from one request to the next, so that a kept-alive
// connection cannot switch hosts after its first request. A request's head is held back until
// it is complete and read; its body passes as it comes. Strict where servers differ (RFC 9112's
// "reject" cases, smuggling's ambiguities): what this reader cannot frame exactly is refused,
// never passed on. Pure: bytes in, heads and the bytes that may go on out.
import { clipped, readHostName } from './host-name.js';

/** The longest request head (request line and fields) read; servers refuse longer ones too (Node: 16 KiB). */
export const HEAD_LIMIT = 64 * 1024;
/** The longest chunk-size line or trailer section. */
const LINE_LIMIT = 4096;

export interface RequestHead {
  method: string;
  target: string;
  /** The Host field's name, lower case, without its port. */
  host: string;
  /** The Host field's port, when it names one. */
  port?: number;
}

export type HttpStep =
  /** `heads`: the requests whose heads completed now; `ready`: the bytes that may be passed on once they are allowed. */
  | { kind: 'ok'; heads: RequestHead[]; ready: Buffer }
  /** `host`: no readable, single Host (or a target that disagrees with it); `opaque`: the connection stops being HTTP/1.x requests. */
  | { kind: 'refused'; reason: 'host' | 'opaque'; detail: string; host?: string };

class Refusal extends Error {
  constructor(
    readonly reason: 'host' | 'opaque',
    message: string,
    readonly host?: string,
  ) {
    super(message);
  }
}

type State =
  | { at: 'head' }
  | { at: 'body'; left: number }
  | { at: 'chunk-size' }
  | { at: 'chunk-data'; left: number }
  | { at: 'chunk-end' }
  | { at: 'trailers' };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})(?:[\t ]*;[\t\x20-\x7e]*)?$/;

export class HttpRequestReader {
  private state: State = { at: 'head' };
  /** Bytes of an incomplete head, chunk-size line or trailer section. */
  private held: Buffer = Buffer.alloc(0);
  private refused?: Extract<HttpStep, { kind: 'refused' }>;

  push(chunk: Buffer): HttpStep {
    if (this.refused) return this.refused;
    const heads: RequestHead[] = [];
    const ready: Buffer[] = [];
    let buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    this.held = Buffer.alloc(0);
    try {
      while (buf.length > 0) {
        const used = this.step(buf, heads);
        if (used === 0) {
          this.held = buf;
          break;
        }
        ready.push(buf.subarray(0, used));
        buf = buf.subarray(used);
      }
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.refused = { kind: 'refused', reason: err.reason, detail: err.message, ...(err.host !== undefined ? { host: err.host } : {}) };
      return this.refused;
    }
    return { kind: 'ok', heads, ready: ready.length === 1 ? ready[0] : Buffer.concat(ready) };
  }

  /** Body bytes known to come next, before anything must be read again (the rest of a Content-Length body or a chunk); 0 elsewhere. */
  get bodyAhead(): number {
    const s = this.state;
    return !this.refused && (s.at === 'body' || s.at === 'chunk-data') ? s.left : 0;
  }

  /** Counts `n` of those body bytes (at most bodyAhead) as read, unseen: a body is passed as it comes anyway. */
  skipBody(n: number): void {
    const s = this.state;
    if (!(s.at === 'body' || s.at === 'chunk-data') || n > s.left) throw new Error(`skipBody(${n}) past the body`);
    s.left -= n;
    if (s.left === 0) this.state = s.at === 'body' ? { at: 'head' } : { at: 'chunk-end' };
  }

  /** Consumes one framing unit from the start of `buf`; 0 when it is not complete yet. */
  private step(buf: Buffer, heads: RequestHead[]): number {
    const s = this.state;
    switch (s.at) {
      case 'head': {
        // Empty lines before a request line are allowed (RFC 9112 2.2), and nothing else.
        if (buf[0] === 0x0d) {
          if (buf.length < 2) return 0;
          if (buf[1] !== 0x0a) throw new Refusal('host', 'a CR without LF between requests');
          return 2;
        }
        const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
        if (end < 0) {
          if (buf.length > HEAD_LIMIT) throw new Refusal('host', `a request head longer than ${HEAD_LIMIT} bytes`);
          if (!looksLikeRequest(buf)) throw new Refusal('opaque', 'the bytes are not an HTTP/1.x request');
          return 0;
        }
        if (end + 4 > HEAD_LIMIT) throw new Refusal('host', `a request head longer than ${HEAD_LIMIT} bytes`);
        const { head, body } = readHead(buf.toString('latin1', 0, end));
        heads.push(head);
        this.state = body === 'chunked' ? { at: 'chunk-size' } : body > 0 ? { at: 'body', left: body } : { at: 'head' };
        return end + 4;
      }
      case 'body':
      case 'chunk-data': {
        const n = Math.min(s.left, buf.length);
        s.left -= n;
        if (s.left === 0) this.state = s.at === 'body' ? { at: 'head' } : { at: 'chunk-end' };
        return n;
      }
      case 'chunk-end':
        if (buf.length < 2) return 0;
        if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw new Refusal('host', 'a chunk does not end with CRLF');
        this.state = { at: 'chunk-size' };
        return 2;
      case 'chunk-size': {
        const line = this.line(buf, 'a chunk-size line');
        if (line === undefined) return 0;
        const m = CHUNK_SIZE.exec(line);
        if (!m) throw new Refusal('host', `a malformed chunk size '${clipped(line)}'`);
        const size = parseInt(m[1], 16);
        this.state = size === 0 ? { at: 'trailers' } : { at: 'chunk-data', left: size };
        return line.length + 2;
      }
      case 'trailers': {
        // The trailer section ends with an empty line; its fields are read as fields.
        if (buf.length < 2) return 0;
        if (buf[0] === 0x0d && buf[1] === 0x0a) {
          this.state = { at: 'head' };
          return 2;
        }
        const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
        if (end < 0 || end + 4 > LINE_LIMIT) {
          if (buf.length > LINE_LIMIT) throw new Refusal('host', `a trailer section longer than ${LINE_LIMIT} bytes`);
          return 0;
        }
        for (const field of buf.toString('latin1', 0, end).split('\r\n')) {
          if (/[\r\n]/.test(field)) throw new Refusal('host', 'a trailer holds a bare CR or LF');
          readField(field);
        }
        this.state = { at: 'head' };
        return end + 4;
      }
    }
  }

  /** A CRLF-terminated line at the start of `buf`, without the CRLF; undefined while incomplete. */
  private line(buf: Buffer, what: string): string | undefined {
    const end = buf.indexOf('\r\n', 0, 'latin1');
    if (end < 0) {
      if (buf.length > LINE_LIMIT) throw new Refusal('host', `${what} longer than ${LINE_LIMIT} bytes`);
      return undefined;
    }
    const line = buf.toString('latin1', 0, end);
    if (/[\r\n]/.test(line)) throw new Refusal('host', `${what} holds a bare CR or LF`);
    return line;
  }
}

/** Whether an incomplete head can still become a request line (a method token, then a space). */
function looksLikeRequest(buf: Buffer): boolean {
  const text = buf.toString('latin1', 0, Math.min(buf.length, 32));
  const space = text.indexOf(' ');
  const method = space < 0 ? text : text.slice(0, space);
  return method.length <= 20 && (method.length === 0 || TOKEN.test(method)) && (space >= 0 || text.length <= 20);
}

/** The head's meaning and how long its body is (`chunked`, or a length, 0 for none). */
function readHead(text: string): { head: RequestHead; body: number | 'chunked' } {
  const lines = text.split('\r\n');
  if (lines.some((l) => /[\r\n]/.test(l))) throw new Refusal('host', 'the request head holds a bare CR or LF');
  const requestLine = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(lines[0]);
  if (!requestLine || !TOKEN.test(requestLine[1])) {
    throw new Refusal('opaque', `'${clipped(lines[0])}' is not an HTTP/1.0 or 1.1 request line`);
  }
  const [, method, target, minor] = requestLine;
  if (!/^[\x21-\x7e]+$/.test(target)) throw new Refusal('host', `the request target '${clipped(target)}' holds characters a target cannot`);
  const fields = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const [name, value] = readField(line);
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  const hosts = fields.get('host') ?? [];
  if (hosts.length !== 1) throw new Refusal('host', hosts.length === 0 ? 'the request has no Host' : 'the request has more than one Host');
  const { host, port } = readAuthority(hosts[0], 'Host');
  if (method === 'CONNECT') throw new Refusal('opaque', `CONNECT ${clipped(target)}: a tunnel's bytes are not HTTP requests`, host);
  if (fields.has('upgrade'))
    throw new Refusal('opaque', `an Upgrade to '${clipped(fields.get('upgrade')!.join(', '))}': what follows is not HTTP requests`, host);
  checkTarget(method, target, host);
  return { head: { method, target, host, ...(port !== undefined ? { port } : {}) }, body: bodyLength(fields, minor === '0', host) };
}

/** A field line as name (lower case) and value (without surrounding whitespace). */
function readField(line: string): [string, string] {
  if (line.startsWith(' ') || line.startsWith('\t')) throw new Refusal('host', 'a folded header line (obsolete line folding)');
  const colon = line.indexOf(':');
  const name = colon < 0 ? '' : line.slice(0, colon);
  if (!TOKEN.test(name)) throw new Refusal('host', `a malformed header line '${clipped(line)}'`);
  const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
  if (!FIELD_VALUE.test(value)) throw new Refusal('host', `the header ${clipped(name)} holds a control character`);
  return [name.toLowerCase(), value];
}

/** `host[:port]` as the Host field or an absolute target's authority writes it. */
function readAuthority(text: string, what: string): { host: string; port?: number } {
  const m = /^([^:@[\]]*)(?::([0-9]{1,5}))?$/.exec(text);
  const host = m ? readHostName(m[1]) : undefined;
  if (!m || host === undefined) throw new Refusal('host', `the ${what} '${clipped(text)}' is not a host name (and port)`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port === 0 || port > 65535)) throw new Refusal('host', `the ${what} '${clipped(text)}' has port ${port}`);
  return { host, ...(port !== undefined ? { port } : {}) };
}

/** An absolute-form target names its own host, which the server uses instead of Host: it must be Host's. */
function checkTarget(method: string, target: string, host: string): void {
  if (target.startsWith('/')) return;
  if (target === '*' && method === 'OPTIONS') return;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  if (!m) throw new Refusal('host', `the request target '${clipped(target)}' is neither a path nor an absolute URL`, host);
  const authority = readAuthority(m[1], 'request target host');
  if (authority.host !== host) {
    throw new Refusal('host', `the request target names ${authority.host}, its Host ${host}`, authority.host);
  }
}

function bodyLength(fields: Map<string, string[]>, http10: boolean, host: string): number | 'chunked' {
  const te = fields.get('transfer-encoding');
  const cl = fields.get('content-length');
  if (te) {
    if (cl) throw new Refusal('host', 'both Transfer-Encoding and Content-Length: the body cannot be framed unambiguously', host);
    if (http10) throw new Refusal('host', 'Transfer-Encoding in an HTTP/1.0 request', host);
    if (te.length !== 1 || te[0].toLowerCase() !== 'chunked') {
      throw new Refusal('host', `Transfer-Encoding '${clipped(te.join(', '))}': only 'chunked' alone is framed`, host);
    }
    return 'chunked';
  }
  if (!cl) return 0;
  if (cl.length !== 1 || !/^[0-9]{1,15}$/.test(cl[0])) throw new Refusal('host', `Content-Length '${clipped(cl.join(', '))}'`, host);
  return Number(cl[0]);
}
