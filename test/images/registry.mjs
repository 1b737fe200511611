// An npm registry stand-in for the name check's tests and benchmarks, in buildfence-test/client:
// HTTPS on 443 with the test CA's certificate (packages.registry.test), serving COUNT packages
// (pkg-00, pkg-01, ...) made at start: each packument, each tarball, and at /-/package.json and
// /-/package-lock.json a project that depends on all of them, for `npm ci`.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as zlib from 'node:zlib';

const dir = process.env.TLS_DIR ?? '/tls';
const count = Number(process.env.COUNT ?? 70);
const origin = 'https://packages.registry.test';

/** One ustar entry: a 512-byte header, then the data padded to 512 bytes. */
function tarEntry(name, data) {
  const header = Buffer.alloc(512);
  const field = (at, length, text) => header.write(text, at, length, 'latin1');
  field(0, 100, name);
  field(100, 8, '0000644\0');
  field(108, 8, '0000000\0');
  field(116, 8, '0000000\0');
  field(124, 12, `${data.length.toString(8).padStart(11, '0')}\0`);
  field(136, 12, '00000000000\0');
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const b of header) sum += b;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

const packages = new Map();
for (let i = 0; i < count; i++) {
  const name = `pkg-${String(i).padStart(2, '0')}`;
  const manifest = { name, version: '1.0.0', main: 'index.js' };
  const tarball = zlib.gzipSync(
    Buffer.concat([
      tarEntry('package/package.json', Buffer.from(JSON.stringify(manifest))),
      tarEntry('package/index.js', Buffer.from(`module.exports = ${JSON.stringify(name)};\n${'// padding\n'.repeat(400)}`)),
      Buffer.alloc(1024),
    ]),
  );
  const integrity = `sha512-${crypto.createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = crypto.createHash('sha1').update(tarball).digest('hex');
  const url = `${origin}/${name}/-/${name}-1.0.0.tgz`;
  packages.set(name, { manifest, tarball, integrity, shasum, url });
}

const project = {
  name: 'fenced-project',
  version: '1.0.0',
  dependencies: Object.fromEntries([...packages.keys()].map((n) => [n, '1.0.0'])),
};
const lock = {
  name: project.name,
  version: project.version,
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': project,
    ...Object.fromEntries(
      [...packages].map(([n, p]) => [`node_modules/${n}`, { version: '1.0.0', resolved: p.url, integrity: p.integrity }]),
    ),
  },
};

const json = (res, value) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

https
  .createServer({ key: fs.readFileSync(`${dir}/server.key`), cert: fs.readFileSync(`${dir}/server.pem`) }, (req, res) => {
    const url = new URL(req.url, origin);
    if (url.pathname === '/-/package.json') return json(res, project);
    if (url.pathname === '/-/package-lock.json') return json(res, lock);
    const [, name, dash, file] = url.pathname.split('/');
    const p = packages.get(decodeURIComponent(name ?? ''));
    if (!p) {
      res.writeHead(404);
      return res.end();
    }
    if (dash === '-' && file === `${name}-1.0.0.tgz`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': p.tarball.length });
      return res.end(p.tarball);
    }
    return json(res, {
      name,
      'dist-tags': { latest: '1.0.0' },
      versions: { '1.0.0': { ...p.manifest, dist: { tarball: p.url, integrity: p.integrity, shasum: p.shasum } } },
    });
  })
  .listen(443, '::', () => console.log(`registry listening with ${count} packages`));
