// DNS messages written by hand for tests: the bytes exactly as given (case, counts that lie,
// labels with any bytes), which an encoder would correct. Shared by the unit, property and
// integration tests of the resolver.

/** A header: id, flags, and the four counts (question, answer, authority, additional). */
export function header(id: number, flags: number, counts: readonly number[]): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return h;
}

/** A name's wire form: the labels as given (a label's length byte is its length, up to 255), then the root. */
export function wire(...labels: Array<string | Buffer | Uint8Array>): Buffer {
  return Buffer.concat([
    ...labels.map((l) => {
      const b = typeof l === 'string' ? Buffer.from(l, 'latin1') : Buffer.from(l);
      return Buffer.concat([Buffer.from([Math.min(b.length, 255)]), b]);
    }),
    Buffer.from([0]),
  ]);
}

export function typeClass(qtype: number, qclass = 1): Buffer {
  return Buffer.from([qtype >> 8, qtype & 255, qclass >> 8, qclass & 255]);
}

/** An OPT record: payload size, version, DO, and options given as [code, data]. */
export function opt(payload = 4096, { version = 0, dnssecOk = false, options = [] as Array<[number, Uint8Array]> } = {}): Buffer {
  const data = Buffer.concat(
    options.map(([code, d]) => Buffer.concat([Buffer.from([code >> 8, code & 255, d.length >> 8, d.length & 255]), Buffer.from(d)])),
  );
  const r = Buffer.alloc(11);
  r.writeUInt16BE(41, 1);
  r.writeUInt16BE(payload, 3);
  r[6] = version;
  r[7] = dnssecOk ? 0x80 : 0;
  r.writeUInt16BE(data.length, 9);
  return Buffer.concat([r, data]);
}
