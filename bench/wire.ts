// The name check's cost (issue 14): a bulk HTTP download through the checker against the same
// download unfenced, the connect latency it adds (a new connection per request), and npm ci of
// 70 packages through a name entry against the same install unfenced, measured
// side by side in two containers that stay up. The server is test/images/site.mjs on an
// --internal network; the fenced build allows its name, so every connection is checked.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TestUpstream } from '../test/integration/upstream.js';
import {
  BENCH_LABEL,
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
const REGISTRY = 'packages.registry.test';
const BULK_GOAL = 0.9;
const LATENCY_GOAL_MS = 1;
const NPM_GOAL = 1.1;
const REQUESTS = 300;

// One request per new connection (no keep-alive), timed from connect to the end of the answer.
const LATENCY = `import http from 'node:http';
const [host, n] = [process.argv[2], Number(process.argv[3])];
const times = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  await new Promise((resolve, reject) =>
    http.get({ host, port: 80, path: '/', headers: { host: '${NAME}' }, agent: false }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
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
    upstream.zone.set(REGISTRY, { A: [registry], ttl: 3600 });
    await fs.copyFile(path.join(ROOT, 'test/fixtures/tls/ca.pem'), path.join(clis.workspace, 'ca.pem'));
    await fs.writeFile(path.join(clis.workspace, 'latency.mjs'), LATENCY);
    const mount = ['--volume', `${clis.workspace}:${clis.workspace}`, '--workdir', clis.workspace];
    const unfenced = await unfencedSession({ name: net }, CLIENT_IMAGE, [
      ...mount,
      `--add-host=${NAME}:${site}`,
      `--add-host=${REGISTRY}:${registry}`,
    ]);
    sessions.push(unfenced);
    const fenced = await fencedSession(clis.bundle, [`${NAME}:80`, `${REGISTRY}:443`], { name: net }, clis.workspace, {
      image: CLIENT_IMAGE,
      extra: ['--dns-upstream', upstream.address, '--dns-ttl-min', '3600'],
      untraced: true,
    });
    sessions.push(fenced);
    // The fenced build asks the name once: its address is then learned for the whole benchmark.
    await fenced.exec(['curl', '-sS', '-o', '/dev/null', `http://${NAME}/`]);
    for (const f of ['package.json', 'package-lock.json']) {
      await fenced.exec(['curl', '-sS', '--cacert', 'ca.pem', '-o', f, `https://${REGISTRY}/-/${f}`]);
    }
    const session = (v: 'unfenced' | 'fenced') => (v === 'fenced' ? fenced : unfenced);

    const bulk = await interleave(
      ['unfenced', 'fenced'] as const,
      reps,
      async (v) =>
        Number(await session(v).exec(['curl', '-sS', '-o', '/dev/null', '-w', '%{speed_download}', `http://${NAME}/bulk?n=${bytes}`])) /
        1e6,
    );
    const latency = await interleave(['unfenced', 'fenced'] as const, reps, async (v) => {
      const out = await session(v).exec(['node', 'latency.mjs', site, String(REQUESTS)]);
      const m = /p50 ([\d.]+) p90 ([\d.]+)/.exec(out);
      if (!m) throw new Error(`no latency line: ${out}`);
      return { p50: Number(m[1]), p90: Number(m[2]) };
    });
    // A fresh project and cache each time: every tarball is fetched.
    const npmScript = [
      'set -e; d=$(mktemp -d); cp package.json package-lock.json ca.pem "$d"; cd "$d"',
      `npm ci --registry https://${REGISTRY}/ --cafile ca.pem --cache "$d/cache" --no-audit --no-fund --loglevel error`,
      'test "$(ls node_modules | wc -l)" = 70; rm -rf "$d"',
    ].join('\n');
    const npm = await interleave(['unfenced', 'fenced'] as const, reps, async (v) => {
      const t0 = performance.now();
      await session(v).exec(['sh', '-c', npmScript]);
      return performance.now() - t0;
    });
    const npmRatio = pairedRatio(npm.fenced, npm.unfenced);
    const [bu, bf, ratio] = [median(bulk.unfenced), median(bulk.fenced), pairedRatio(bulk.fenced, bulk.unfenced)];
    const p50 = (v: 'unfenced' | 'fenced') => median(latency[v].map((l) => l.p50));
    const p90 = (v: 'unfenced' | 'fenced') => median(latency[v].map((l) => l.p90));
    const added = median(latency.fenced.map((l, i) => l.p50 - latency.unfenced[i].p50));
    console.log(
      `wire: bulk unfenced ${bu.toFixed(0)} MB/s, checked ${bf.toFixed(0)} MB/s (${fmtPct(ratio)}); p50 added ${added.toFixed(3)} ms`,
    );
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    return [
      `${reps} rounds, each running both once, in an order that rotates; medians, ratios the median of the per-round ratios. ` +
        `Both clients run in buildfence-test/client with \`docker exec\`, in two containers that stay up on one internal network: ` +
        `the build of a release run through the bundled CLI (not traced) whose entries are \`${NAME}:80\` and \`${REGISTRY}:443\` (every connection goes through the ` +
        `name check), and the same image beside it without buildfence. The server is test/images/site.mjs (node). ` +
        `Bulk: \`curl\` reads ${(bytes / 1e9).toFixed(1)} GB over HTTP on one connection. Latency: ${REQUESTS} sequential ` +
        'HTTP requests from node, each on a new connection, timed from connect to the last byte of the answer. MB = 10^6 bytes.',
      '',
      '| transfer | MB/s (range) | vs unfenced |',
      '| --- | ---: | ---: |',
      `| unfenced | ${bu.toFixed(0)} (${range(bulk.unfenced)}) | 100.0 % |`,
      `| **through the name check** | ${bf.toFixed(0)} (${range(bulk.fenced)}) | **${fmtPct(ratio)}** |`,
      '',
      '| requests, new connection each | p50 | p90 |',
      '| --- | ---: | ---: |',
      `| unfenced | ${p50('unfenced').toFixed(3)} ms | ${p90('unfenced').toFixed(3)} ms |`,
      `| through the name check | ${p50('fenced').toFixed(3)} ms | ${p90('fenced').toFixed(3)} ms |`,
      `| **added (median of the per-round differences of p50)** | **${added.toFixed(3)} ms** | |`,
      '',
      `\`npm ci\` of 70 packages (test/images/registry.mjs over HTTPS, a fresh project and cache each time; wall time of the \`docker exec\`):`,
      '',
      '| npm ci | median | vs unfenced |',
      '| --- | ---: | ---: |',
      `| unfenced | ${Math.round(median(npm.unfenced))} ms | 1.00x |`,
      `| **through a name entry** | ${Math.round(median(npm.fenced))} ms | **${npmRatio.toFixed(2)}x** |`,
      '',
      `Goals: bulk at least ${fmtPct(BULK_GOAL)} of unfenced: ${ratio >= BULK_GOAL ? 'met' : 'missed'}; ` +
        `added connect latency p50 under ${LATENCY_GOAL_MS} ms: ${added < LATENCY_GOAL_MS ? 'met' : 'missed'}; ` +
        `npm ci at most ${NPM_GOAL.toFixed(2)}x: ${npmRatio <= NPM_GOAL ? 'met' : 'missed'}.`,
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
