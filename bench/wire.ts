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

type Variant = 'unfenced' | 'address' | 'checked';

/** CPU seconds so far: a container's cgroup (cpuacct), another's, and a process's (0 without one). */
async function cpuSeconds(a: string, b: string, pid?: number): Promise<[number, number, number]> {
  const cgroup = async (file: string) => Number(await fs.readFile(file, 'utf8')) / 1e9;
  // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100 a second here).
  const own = pid === undefined ? 0 : (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ').slice(11, 13).map(Number);
  return [await cgroup(a), await cgroup(b), Array.isArray(own) ? (own[0] + own[1]) / 100 : 0];
}

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
    // Checked: every connection goes through the name check. Opened by address: the same names
    // through the same resolver, their addresses also allowed by address entries, which the
    // check leaves to the filter: the rest of the fence without the check.
    const checked = await fencedSession(clis.bundle, [`${NAME}:80`, `${REGISTRY}:443`], { name: net }, clis.workspace, {
      image: CLIENT_IMAGE,
      extra: ['--dns-upstream', upstream.address, '--dns-ttl-min', '3600'],
      untraced: true,
    });
    sessions.push(checked);
    const opened = await fencedSession(
      clis.bundle,
      [`${NAME}:80`, `${REGISTRY}:443`, `${site}:80`, `${registry}:443`],
      { name: net },
      clis.workspace,
      { image: CLIENT_IMAGE, extra: ['--dns-upstream', upstream.address, '--dns-ttl-min', '3600'], untraced: true },
    );
    sessions.push(opened);
    for (const fenced of [checked, opened]) {
      // The fenced build asks the name once: its address is then learned for the whole benchmark.
      await fenced.exec(['curl', '-sS', '-o', '/dev/null', `http://${NAME}/`]);
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

    const bulk = await interleave(variants, reps, async (v) => {
      const before = await cpuSeconds(clientCpu[v], serverCpu, session(v).pid);
      const rate = Number(
        await session(v).exec(['curl', '-sS', '-o', '/dev/null', '-w', '%{speed_download}', `http://${NAME}/bulk?n=${bytes}`]),
      );
      const after = await cpuSeconds(clientCpu[v], serverCpu, session(v).pid);
      const perGB = (i: number) => ((after[i] - before[i]) / bytes) * 1e9;
      return { rate: rate / 1e6, client: perGB(0), server: perGB(1), buildfence: perGB(2) };
    });
    const latency = await interleave(variants, reps, async (v) => {
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
    const npm = await interleave(variants, reps, async (v) => {
      const t0 = performance.now();
      await session(v).exec(['sh', '-c', npmScript]);
      return performance.now() - t0;
    });
    const rates = (v: Variant) => bulk[v].map((b) => b.rate);
    const ratio = (v: Variant) => pairedRatio(rates(v), rates('unfenced'));
    const npmRatio = (v: Variant) => pairedRatio(npm[v], npm.unfenced);
    const p50 = (v: Variant) => median(latency[v].map((l) => l.p50));
    const p90 = (v: Variant) => median(latency[v].map((l) => l.p90));
    const added = (v: Variant) => median(latency[v].map((l, i) => l.p50 - latency.unfenced[i].p50));
    const cpu = (v: Variant, k: 'client' | 'server' | 'buildfence') => median(bulk[v].map((b) => b[k])).toFixed(2);
    console.log(
      `wire: bulk unfenced ${median(rates('unfenced')).toFixed(0)} MB/s, checked ${median(rates('checked')).toFixed(0)} MB/s (${fmtPct(ratio('checked'))}); ` +
        `p50 added ${added('checked').toFixed(3)} ms; npm ci ${npmRatio('checked').toFixed(2)}x`,
    );
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    const label = { unfenced: 'unfenced', address: 'fenced, opened by address (not checked)', checked: '**through the name check**' };
    return [
      `${reps} rounds, each running the three once, in an order that rotates; medians, ratios the median of the per-round ratios. ` +
        `All clients run in buildfence-test/client with \`docker exec\`, in three containers that stay up on one internal network: ` +
        `the build of a release run through the bundled CLI (not traced) whose entries are \`${NAME}:80\` and \`${REGISTRY}:443\` (every connection goes through the ` +
        `name check); the build of another whose entries add both servers' addresses on those ports (the same names through the same resolver, the connections left to the filter, unchecked); and the same image beside them without buildfence (names from /etc/hosts). The server is test/images/site.mjs (node). ` +
        `Bulk: \`curl\` reads ${(bytes / 1e9).toFixed(1)} GB over HTTP on one connection; CPU is the client's and the server's container (cgroup cpuacct, kernel time in their context included) and buildfence's process (the checker, the resolver and the reader), in CPU seconds per GB. ` +
        `Latency: ${REQUESTS} sequential HTTP requests from node, each on a new connection, timed from connect to the last byte of the answer. MB = 10^6 bytes.`,
      '',
      '| transfer | MB/s (range) | vs unfenced | CPU s/GB: client | server | buildfence |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...variants.map(
        (v) =>
          `| ${label[v]} | ${median(rates(v)).toFixed(0)} (${range(rates(v))}) | ${v === 'checked' ? `**${fmtPct(ratio(v))}**` : fmtPct(ratio(v))} | ${cpu(v, 'client')} | ${cpu(v, 'server')} | ${v === 'unfenced' ? '' : cpu(v, 'buildfence')} |`,
      ),
      '',
      '| requests, new connection each | p50 | p90 | added to p50 (median of the per-round differences) |',
      '| --- | ---: | ---: | ---: |',
      ...variants.map(
        (v) =>
          `| ${label[v]} | ${p50(v).toFixed(3)} ms | ${p90(v).toFixed(3)} ms | ${v === 'unfenced' ? '' : v === 'checked' ? `**${added(v).toFixed(3)} ms**` : `${added(v).toFixed(3)} ms`} |`,
      ),
      '',
      `\`npm ci\` of 70 packages (test/images/registry.mjs over HTTPS, a fresh project and cache each time; wall time of the \`docker exec\`):`,
      '',
      '| npm ci | median (range) | vs unfenced |',
      '| --- | ---: | ---: |',
      ...variants.map(
        (v) =>
          `| ${label[v]} | ${Math.round(median(npm[v]))} ms (${range(npm[v])}) | ${v === 'checked' ? `**${npmRatio(v).toFixed(2)}x**` : `${npmRatio(v).toFixed(2)}x`} |`,
      ),
      '',
      `Goals: bulk at least ${fmtPct(BULK_GOAL)} of unfenced: ${ratio('checked') >= BULK_GOAL ? 'met' : 'missed'}; ` +
        `added connect latency p50 under ${LATENCY_GOAL_MS} ms: ${added('checked') < LATENCY_GOAL_MS ? 'met' : 'missed'}; ` +
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
