// The name check's cost (issue 14): bulk downloads through the check against the same downloads
// unfenced, over HTTP and HTTPS (the fast path: TLS in the kernel once the ClientHello is read,
// HTTP with every packet the build sends read), an HTTP upload (its head read, its body let
// through by the queue program unread), the
// connect latency it adds (a new connection per request, both), and npm ci of 70
// packages over HTTPS through a name entry against the same install unfenced, measured side by
// side in containers that stay up. The server is test/images/site.mjs on an --internal network;
// the fenced build allows its names, so every connection is checked.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestUpstream } from '../test/integration/upstream.js';
import {
  BENCH_LABEL,
  HOLDER_IMAGE,
  ROOT,
  docker,
  fencedSession,
  fmtPct,
  interleave,
  median,
  pairedRatio,
  timed,
  unfencedSession,
  type Clis,
  type Session,
} from './lib.js';

const CLIENT_IMAGE = 'buildfence-test/client:latest';
const NAME = 'bench.test';
/** The site over HTTPS: a name the test CA's certificate covers. */
const TLS_NAME = 'bulk.registry.test';
const REGISTRY = 'packages.registry.test';
const BULK_GOAL = 0.9;
const LATENCY_GOAL_MS = 1;
const NPM_GOAL = 1.1;
const REQUESTS = 300;

type Variant = 'unfenced' | 'address' | 'checked';
type Scheme = 'http' | 'https';

/** CPU seconds so far: a container's cgroup (cpuacct), another's, and a process's (0 without one). */
async function cpuSeconds(a: string, b: string, pid?: number): Promise<[number, number, number]> {
  const cgroup = async (file: string) => Number(await fs.readFile(file, 'utf8')) / 1e9;
  // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100 a second here).
  const own = pid === undefined ? 0 : (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ').slice(11, 13).map(Number);
  return [await cgroup(a), await cgroup(b), Array.isArray(own) ? (own[0] + own[1]) / 100 : 0];
}

// One request per new connection (no keep-alive), timed from connect to the end of the answer;
// over HTTPS without session resumption, each a full handshake.
const LATENCY = `import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
const [host, n, scheme] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const tls = scheme === 'https';
const ca = tls ? fs.readFileSync('ca.pem') : undefined;
const times = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const options = tls
    ? { host, port: 443, path: '/', servername: '${TLS_NAME}', headers: { host: '${TLS_NAME}' }, ca, agent: false }
    : { host, port: 80, path: '/', headers: { host: '${NAME}' }, agent: false };
  await new Promise((resolve, reject) =>
    (tls ? https : http).get(options, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log('latency p50 ' + times[Math.floor(n / 2)].toFixed(3) + ' p90 ' + times[Math.floor(n * 0.9)].toFixed(3));
`;

export async function wireBench(clis: Clis, reps: number, bytes: number): Promise<string[]> {
  await docker(['image', 'inspect', '--format', '{{.Id}}', CLIENT_IMAGE]).catch(() => {
    throw new Error(`${CLIENT_IMAGE} is missing: run scripts/build-client-image`);
  });
  const net = `bfbench-${randomBytes(4).toString('hex')}`;
  const siteName = `${net}-site`;
  const registryName = `${net}-registry`;
  const upstream = await new TestUpstream().start();
  const sessions: Session[] = [];
  try {
    await docker(['network', 'create', '--internal', '--label', BENCH_LABEL, net]);
    const serve = (name: string, script: string) =>
      docker([
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        net,
        '--label',
        BENCH_LABEL,
        '--volume',
        `${path.join(ROOT, 'test/images', script)}:/${script}:ro`,
        '--volume',
        `${path.join(ROOT, 'test/fixtures/tls')}:/tls:ro`,
        CLIENT_IMAGE,
        'node',
        `/${script}`,
      ]);
    await Promise.all([serve(siteName, 'site.mjs'), serve(registryName, 'registry.mjs')]);
    const site = await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, siteName]);
    const registry = await docker(['inspect', '--format', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, registryName]);
    upstream.zone.set(NAME, { A: [site], ttl: 3600 });
    upstream.zone.set(TLS_NAME, { A: [site], ttl: 3600 });
    upstream.zone.set(REGISTRY, { A: [registry], ttl: 3600 });
    await fs.copyFile(path.join(ROOT, 'test/fixtures/tls/ca.pem'), path.join(clis.workspace, 'ca.pem'));
    await fs.writeFile(path.join(clis.workspace, 'latency.mjs'), LATENCY);
    const mount = ['--volume', `${clis.workspace}:${clis.workspace}`, '--workdir', clis.workspace];
    const unfenced = await unfencedSession({ name: net }, CLIENT_IMAGE, [
      ...mount,
      `--add-host=${NAME}:${site}`,
      `--add-host=${TLS_NAME}:${site}`,
      `--add-host=${REGISTRY}:${registry}`,
    ]);
    sessions.push(unfenced);
    // Checked: every connection goes through the name check. Opened by address: the same names
    // through the same resolver, their addresses also allowed by address entries, which the
    // check leaves to the filter: the rest of the fence without the check.
    const extra = ['--dns-upstream', upstream.address, '--dns-ttl-min', '3600', '--holder-image', HOLDER_IMAGE];
    const names = [`${NAME}:80`, `${TLS_NAME}:443`, `${REGISTRY}:443`];
    const checked = await fencedSession(clis.bundle, names, { name: net }, clis.workspace, { image: CLIENT_IMAGE, extra, untraced: true });
    sessions.push(checked);
    const opened = await fencedSession(
      clis.bundle,
      [...names, `${site}:80`, `${site}:443`, `${registry}:443`],
      { name: net },
      clis.workspace,
      {
        image: CLIENT_IMAGE,
        extra,
        untraced: true,
      },
    );
    sessions.push(opened);
    for (const fenced of [checked, opened]) {
      // The fenced build asks the name once: its address is then learned for the whole benchmark.
      await fenced.exec(['curl', '-sS', '-o', '/dev/null', `http://${NAME}/`]);
      await fenced.exec(['curl', '-sS', '--cacert', 'ca.pem', '-o', '/dev/null', `https://${TLS_NAME}/`]);
      for (const f of ['package.json', 'package-lock.json']) {
        await fenced.exec(['curl', '-sS', '--cacert', 'ca.pem', '-o', f, `https://${REGISTRY}/-/${f}`]);
      }
    }
    const session = (v: Variant) => ({ unfenced, address: opened, checked })[v];
    const variants: Variant[] = ['unfenced', 'address', 'checked'];
    const cgroup = async (container: string) =>
      `/sys/fs/cgroup/cpuacct/docker/${await docker(['inspect', '--format', '{{.Id}}', container])}/cpuacct.usage`;
    const serverCpu = await cgroup(siteName);
    const clientCpu = Object.fromEntries(
      await Promise.all(variants.map(async (v) => [v, await cgroup(session(v).container)] as const)),
    ) as Record<Variant, string>;

    const url = (scheme: Scheme) => (scheme === 'http' ? `http://${NAME}/bulk?n=${bytes}` : `https://${TLS_NAME}/bulk?n=${bytes}`);
    const bulkOf = (scheme: Scheme) =>
      interleave(variants, reps, async (v) => {
        const before = await cpuSeconds(clientCpu[v], serverCpu, session(v).pid);
        const rate = Number(
          await session(v).exec(['curl', '-sS', '--cacert', 'ca.pem', '-o', '/dev/null', '-w', '%{speed_download}', url(scheme)]),
        );
        const after = await cpuSeconds(clientCpu[v], serverCpu, session(v).pid);
        const perGB = (i: number) => ((after[i] - before[i]) / bytes) * 1e9;
        return { rate: rate / 1e6, client: perGB(0), server: perGB(1), buildfence: perGB(2) };
      });
    const bulk = { http: await bulkOf('http'), https: await bulkOf('https') };
    // An upload's packets all carry payload: each is read on its way out.
    const upBytes = Math.round(bytes / 4);
    for (const v of variants) await session(v).exec(['sh', '-c', `head -c ${upBytes} /dev/zero > /tmp/upload`]);
    const upload = await interleave(variants, reps, async (v) => {
      const before = await cpuSeconds(clientCpu[v], serverCpu, session(v).pid);
      const rate = Number(
        await session(v).exec(['curl', '-sS', '-o', '/dev/null', '-w', '%{speed_upload}', '-T', '/tmp/upload', `http://${NAME}/`]),
      );
      const after = await cpuSeconds(clientCpu[v], serverCpu, session(v).pid);
      const perGB = (i: number) => ((after[i] - before[i]) / upBytes) * 1e9;
      return { rate: rate / 1e6, client: perGB(0), server: perGB(1), buildfence: perGB(2) };
    });
    const latencyOf = (scheme: Scheme) =>
      interleave(variants, reps, async (v) => {
        const out = await session(v).exec(['node', 'latency.mjs', site, String(REQUESTS), scheme]);
        const m = /p50 ([\d.]+) p90 ([\d.]+)/.exec(out);
        if (!m) throw new Error(`no latency line: ${out}`);
        return { p50: Number(m[1]), p90: Number(m[2]) };
      });
    const latency = { http: await latencyOf('http'), https: await latencyOf('https') };
    // A fresh project and cache each time: every tarball is fetched.
    const npmScript = [
      'set -e; d=$(mktemp -d); cp package.json package-lock.json ca.pem "$d"; cd "$d"',
      `npm ci --registry https://${REGISTRY}/ --cafile ca.pem --cache "$d/cache" --no-audit --no-fund --loglevel error`,
      'test "$(ls node_modules | wc -l)" = 70; rm -rf "$d"',
    ].join('\n');
    const npm = await interleave(variants, reps, async (v) => {
      const t0 = performance.now();
      await session(v).exec(['sh', '-c', npmScript]);
      return performance.now() - t0;
    });
    const rates = (k: Scheme, v: Variant) => bulk[k][v].map((b) => b.rate);
    const ratio = (k: Scheme, v: Variant) => pairedRatio(rates(k, v), rates(k, 'unfenced'));
    const npmRatio = (v: Variant) => pairedRatio(npm[v], npm.unfenced);
    const p50 = (k: Scheme, v: Variant) => median(latency[k][v].map((l) => l.p50));
    const p90 = (k: Scheme, v: Variant) => median(latency[k][v].map((l) => l.p90));
    const added = (k: Scheme, v: Variant) => median(latency[k][v].map((l, i) => l.p50 - latency[k].unfenced[i].p50));
    const cpu = (k: Scheme, v: Variant, c: 'client' | 'server' | 'buildfence') => median(bulk[k][v].map((b) => b[c])).toFixed(2);
    console.log(
      `wire: bulk over HTTPS unfenced ${median(rates('https', 'unfenced')).toFixed(0)} MB/s, checked ${median(rates('https', 'checked')).toFixed(0)} MB/s (${fmtPct(ratio('https', 'checked'))}); ` +
        `over HTTP ${fmtPct(ratio('http', 'checked'))}; p50 added ${added('https', 'checked').toFixed(3)} ms (HTTPS), ${added('http', 'checked').toFixed(3)} ms (HTTP); npm ci ${npmRatio('checked').toFixed(2)}x`,
    );
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    const label = {
      unfenced: 'unfenced',
      address: 'fenced, opened by address (not checked)',
      checked: {
        http: '**through the name check (the fast path)**',
        https: '**through the name check (the fast path)**',
      },
    };
    const name = (k: Scheme, v: Variant) => `${k.toUpperCase()}, ${v === 'checked' ? label.checked[k] : label[v]}`;
    const schemes: Scheme[] = ['https', 'http'];
    const tlsMet = ratio('https', 'checked') >= BULK_GOAL;
    return [
      `${reps} rounds, each running the three once, in an order that rotates; medians, ratios the median of the per-round ratios. ` +
        `All clients run in buildfence-test/client with \`docker exec\`, in three containers that stay up on one internal network: ` +
        `the build of a release run through the bundled CLI (not traced) whose entries are \`${NAME}:80\`, \`${TLS_NAME}:443\` and \`${REGISTRY}:443\` (every connection goes through the ` +
        `name check, on the fast path); the build of another whose entries add both servers' addresses on those ports (the same names through the same resolver, the connections left to the filter, unchecked); and the same image beside them without buildfence (names from /etc/hosts). The server is test/images/site.mjs (node). ` +
        `Bulk: \`curl\` reads ${(bytes / 1e9).toFixed(1)} GB on one connection, over HTTPS (TLS 1.3, node's server) and over HTTP; CPU is the client's and the server's container (cgroup cpuacct, kernel time in their context included) and buildfence's process (the fast path, the resolver and the reader), in CPU seconds per GB. ` +
        `Latency: ${REQUESTS} sequential requests from node, each on a new connection (HTTPS: a full handshake each), timed from connect to the last byte of the answer. MB = 10^6 bytes.`,
      '',
      '| transfer | MB/s (range) | vs unfenced | CPU s/GB: client | server | buildfence |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...schemes.flatMap((k) =>
        variants.map(
          (v) =>
            `| ${name(k, v)} | ${median(rates(k, v)).toFixed(0)} (${range(rates(k, v))}) | ${v === 'checked' ? `**${fmtPct(ratio(k, v))}**` : fmtPct(ratio(k, v))} | ${cpu(k, v, 'client')} | ${cpu(k, v, 'server')} | ${v === 'unfenced' ? '' : cpu(k, v, 'buildfence')} |`,
        ),
      ),
      '',
      `HTTP upload: \`curl -T\` sends ${(upBytes / 1e9).toFixed(1)} GB on one connection (every packet carries payload: through the name check the head is read, and the body, 256 KiB or more ahead, is let through by the holder's queue program unread):`,
      '',
      '| upload | MB/s (range) | vs unfenced | CPU s/GB: client | server | buildfence |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...variants.map((v) => {
        const r = upload[v].map((u) => u.rate);
        const vs = fmtPct(
          pairedRatio(
            r,
            upload.unfenced.map((u) => u.rate),
          ),
        );
        const c = (k: 'client' | 'server' | 'buildfence') => median(upload[v].map((u) => u[k])).toFixed(2);
        return `| HTTP, ${v === 'checked' ? label.checked.http : label[v]} | ${median(r).toFixed(0)} (${range(r)}) | ${v === 'checked' ? `**${vs}**` : vs} | ${c('client')} | ${c('server')} | ${v === 'unfenced' ? '' : c('buildfence')} |`;
      }),
      '',
      '| requests, new connection each | p50 | p90 | added to p50 (median of the per-round differences) |',
      '| --- | ---: | ---: | ---: |',
      ...schemes.flatMap((k) =>
        variants.map(
          (v) =>
            `| ${name(k, v)} | ${p50(k, v).toFixed(3)} ms | ${p90(k, v).toFixed(3)} ms | ${v === 'unfenced' ? '' : v === 'checked' ? `**${added(k, v).toFixed(3)} ms**` : `${added(k, v).toFixed(3)} ms`} |`,
        ),
      ),
      '',
      `\`npm ci\` of 70 packages (test/images/registry.mjs over HTTPS, a fresh project and cache each time; wall time of the \`docker exec\`):`,
      '',
      '| npm ci | median (range) | vs unfenced |',
      '| --- | ---: | ---: |',
      ...variants.map(
        (v) =>
          `| ${v === 'checked' ? label.checked.https : label[v]} | ${Math.round(median(npm[v]))} ms (${range(npm[v])}) | ${v === 'checked' ? `**${npmRatio(v).toFixed(2)}x**` : `${npmRatio(v).toFixed(2)}x`} |`,
      ),
      '',
      `Goals: bulk at least ${fmtPct(BULK_GOAL)} of unfenced: over HTTPS ${tlsMet ? 'met' : 'missed'}, over HTTP ${ratio('http', 'checked') >= BULK_GOAL ? 'met' : 'missed'}; ` +
        `added connect latency p50 under ${LATENCY_GOAL_MS} ms: HTTPS ${added('https', 'checked') < LATENCY_GOAL_MS ? 'met' : 'missed'}, HTTP ${added('http', 'checked') < LATENCY_GOAL_MS ? 'met' : 'missed'}; ` +
        `npm ci at most ${NPM_GOAL.toFixed(2)}x: ${npmRatio('checked') <= NPM_GOAL ? 'met' : 'missed'}.`,
    ];
  } finally {
    for (const s of sessions) {
      const trace = await s.stop().catch(() => undefined);
      // What the checker warned about (a connection without its logged first packet, say) explains slow rounds.
      for (const line of trace?.stderr.split('\n') ?? []) if (/name checker/.test(line)) console.log(`fenced run: ${line}`);
    }
    await timed('docker', ['rm', '--force', siteName, registryName]);
    await timed('docker', ['network', 'rm', net]);
    await upstream.stop();
  }
}
