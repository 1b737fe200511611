// Two sites on one address, as on a CDN: HTTPS on 443 and HTTP on 80, over IPv4 and IPv6, each
// answering with the name it was asked for (`site HOST`), and /bulk?n=BYTES for the benchmarks.
// Every TLS connection, once closed, is logged with the bytes the server received on it
// (`received 443 ADDRESS PORT BYTES`; a connection reset before it was served has no address
// left: `- 0`), every ClientHello it read with its name (`hello NAME`), and every one it could
// not read (`tls-error CODE`): a refused connection's handshake may arrive, none of its payload.
// Every HTTP request on 80 is logged with its Host (`request 80 HOST`), every connection there
// once closed with the bytes received on it (`received 80 ADDRESS PORT BYTES`).
// Runs in buildfence-test/client with the test CA's server certificate at $TLS_DIR.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

const dir = process.env.TLS_DIR ?? '/tls';
const chunk = Buffer.alloc(1 << 20, 97);
const site = (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/bulk') {
    let left = Number(url.searchParams.get('n') ?? 0);
    res.writeHead(200, { 'content-length': left });
    const more = () => {
      while (left > 0) {
        const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= c.length;
        if (!res.write(c)) return void res.once('drain', more);
      }
      res.end();
    };
    return more();
  }
  req.resume();
  req.on('end', () => res.end(`site ${req.headers.host}\n`));
};
const logged = (port) => (raw) => {
  const from = `${(raw.remoteAddress ?? '-').replace(/^::ffff:/, '')} ${raw.remotePort ?? 0}`;
  raw.on('close', () => console.log(`received ${port} ${from} ${raw.bytesRead}`));
};
http
  .createServer((req, res) => {
    console.log(`request 80 ${req.headers.host}`);
    site(req, res);
  })
  .on('connection', logged(80))
  .listen(80, '::');
https
  .createServer(
    {
      key: fs.readFileSync(`${dir}/server.key`),
      cert: fs.readFileSync(`${dir}/server.pem`),
      SNICallback: (name, cb) => {
        console.log(`hello ${name}`);
        cb(null, null);
      },
    },
    site,
  )
  .on('tlsClientError', (err) => console.log(`tls-error ${err.code}`))
  .on('connection', logged(443))
  .listen(443, '::');
console.log('site listening on 80 and 443');
