// Two sites on one address, as on a CDN: HTTPS on 443 and HTTP on 80, over IPv4 and IPv6, each
// answering with the name it was asked for (`site HOST`), and /bulk?n=BYTES for the benchmarks.
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
http.createServer(site).listen(80, '::');
https.createServer({ key: fs.readFileSync(`${dir}/server.key`), cert: fs.readFileSync(`${dir}/server.pem`) }, site).listen(443, '::');
console.log('site listening on 80 and 443');
