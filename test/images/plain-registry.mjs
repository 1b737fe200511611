// A stand-in npm registry over plain HTTP for tests: serves the files under /srv (packuments as
// NAME/index.json, tarballs as NAME/-/FILE.tgz) on port 8080, and logs each request's path.
// Runs with the agent image's node (test/integration/host.test.ts).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

http
  .createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    const file = path.join('/srv', url.endsWith('.tgz') ? url : path.join(url, 'index.json'));
    console.log(`${req.method} /${url}`);
    fs.readFile(file, (err, body) => {
      if (err || !file.startsWith('/srv/')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': url.endsWith('.tgz') ? 'application/octet-stream' : 'application/json' }).end(body);
    });
  })
  .listen(8080, () => console.log('registry listening on 8080'));
