// The resolver as a forwarder, side by side with dnsmasq forwarding to the same upstream (a
// second dnsmasq answering every *.bench.test name). Throughput from dnsperf (its own C load,
// 20 s in all), with each server's CPU time per query; latency p50/p99 from sequential queries.
// All on loopback.
// Run through bench/run.ts (`npm run bench -- dns`), which writes the result into BENCHMARKS.md.
// BENCH_DNS_BASELINE=DIR adds the resolver of another checkout (with its node_modules), say the
// main branch before a change, interleaved with the others: a change's cost, side by side.
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as dnsPacket from 'dns-packet';
import { ROOT, docker, fmtPct, median } from './lib.js';

const NAMES = 5000;
const SECONDS = 5;
const LATENCY_QUERIES = 2000;

interface Server {
  name: string;
  port: number;
  child: ChildProcess;
}

function startProcess(command: string, args: string[]): ChildProcess {
  return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function dnsmasq(name: string, args: string[]): Promise<Server> {
  const port = await freePort();
  const child = startProcess('dnsmasq', [
    '--keep-in-foreground',
    '--no-daemon',
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    '--except-interface=nonexistent',
    `--port=${port}`,
    '--user=root',
    ...args,
  ]);
  await new Promise((r) => setTimeout(r, 300));
  return { name, port, child };
}

async function buildfence(upstreamPort: number, holder?: string, tree = ROOT): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(tree, 'bench/dns-resolver.ts'), String(upstreamPort), ...(holder ? [holder] : [])],
    {
      cwd: tree,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`resolver exited ${code}`)));
  });
  const name = tree !== ROOT ? `buildfence at ${path.basename(tree)} (baseline)` : holder ? 'buildfence (holder feed)' : 'buildfence';
  return { name, port, child };
}

/**
 * dnsperf's queries per second over `names` (cold: each name once; warm: the same names again),
 * and the CPU time the server spent per query, user and system, in µs: the machine is shared,
 * and a rate falls with its load while CPU time per query barely moves.
 */
async function throughput(server: Server, file: string): Promise<{ rate: number; cpuUs: number }> {
  const cpu0 = await cpuSeconds(server.child.pid!);
  const out = await new Promise<string>((resolve) => {
    const p = spawn(
      'dnsperf',
      ['-s', '127.0.0.1', '-p', String(server.port), '-d', file, '-l', String(SECONDS), '-c', '4', '-q', '64', '-t', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.on('close', () => resolve(text));
  });
  const cpu = (await cpuSeconds(server.child.pid!)) - cpu0;
  const rate = /Queries per second:\s+([\d.]+)/.exec(out);
  const completed = /Queries completed:\s+(\d+)/.exec(out);
  if (!rate || !completed) throw new Error(`dnsperf printed no rate:\n${out}`);
  return { rate: Number(rate[1]), cpuUs: (cpu / Number(completed[1])) * 1e6 };
}

/** User and system CPU time of a process so far, in seconds (Linux: /proc, in clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Sequential queries, one at a time: per-query latency in ms. */
async function latency(port: number, names: string[]): Promise<number[]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const times: number[] = [];
  for (let i = 0; i < names.length; i++) {
    const q = dnsPacket.encode({
      type: 'query',
      id: i & 0xffff,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: names[i] }],
    });
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      sock.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.send(q, port, '127.0.0.1');
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  sock.close();
  return times;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export async function dnsBench(reps: number): Promise<string[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bf-dnsbench-'));
  const upstream = await dnsmasq('upstream', ['--address=/bench.test/192.0.2.1', '--local-ttl=3600']);
  const holder = `buildfence-bench-dns-${process.pid}`;
  const servers: Server[] = [];
  try {
    // A holder with the sets the feed writes into, as in a real run (no network traffic).
    await docker([
      'run',
      '--detach',
      '--name',
      holder,
      '--label',
      'buildfence-bench-dns=1',
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      '--cap-add',
      'NET_ADMIN',
      '--entrypoint',
      'sleep',
      'buildfence/holder:0.1.0',
      '600',
    ]);
    await docker(['exec', holder, 'ipset', 'create', 'bf4-tcp', 'hash:net', 'family', 'inet', 'timeout', '0', 'maxelem', '1000000']);
    await docker(['exec', holder, 'ipset', 'create', 'bf4-udp', 'hash:net', 'family', 'inet', 'timeout', '0', 'maxelem', '1000000']);
    servers.push(
      await dnsmasq('dnsmasq', [`--server=127.0.0.1#${upstream.port}`, '--cache-size=10000']),
      await buildfence(upstream.port),
      await buildfence(upstream.port, holder),
    );
    const baseline = process.env.BENCH_DNS_BASELINE;
    if (baseline) servers.push(await buildfence(upstream.port, undefined, path.resolve(baseline)));
    const rows: Record<string, { cold: number[]; warm: number[]; cpu: number[]; p50: number[]; p99: number[]; coldP50: number[] }> = {};
    for (const s of servers) rows[s.name] = { cold: [], warm: [], cpu: [], p50: [], p99: [], coldP50: [] };
    for (let rep = 0; rep < reps; rep++) {
      for (const s of servers) {
        // Fresh names per repetition and server, so "cold" really misses every cache.
        const names = Array.from({ length: NAMES }, (_, i) => `r${rep}-${i}.${s.name.replace(/\W+/g, '')}.bench.test`);
        const file = path.join(dir, `q-${rep}-${s.port}`);
        await fs.writeFile(file, names.map((n) => `${n} A`).join('\n') + '\n');
        const coldLatency = await latency(s.port, names.slice(0, LATENCY_QUERIES / 4));
        rows[s.name].coldP50.push(percentile(coldLatency, 50));
        rows[s.name].cold.push((await throughput(s, file)).rate);
        const warm = await throughput(s, file);
        rows[s.name].warm.push(warm.rate);
        rows[s.name].cpu.push(warm.cpuUs);
        const warmLatency = await latency(
          s.port,
          Array.from({ length: LATENCY_QUERIES }, (_, i) => names[i % NAMES]),
        );
        rows[s.name].p50.push(percentile(warmLatency, 50));
        rows[s.name].p99.push(percentile(warmLatency, 99));
      }
    }
    const base = rows.dnsmasq;
    const lines = [
      `${NAMES} names under \`*.bench.test\`, dnsperf for ${SECONDS} s with 4 clients and 64 queries in flight; latency from ${LATENCY_QUERIES} sequential queries. Median of ${reps} run(s), servers interleaved.`,
      '',
      '| forwarder | queries/s, cached | vs dnsmasq | CPU per cached query | queries/s, dnsperf run over fresh names | p50 cached | p99 cached | p50 first answer (forwarded) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const s of servers) {
      const r = rows[s.name];
      lines.push(
        `| ${s.name} | ${Math.round(median(r.warm))} | ${fmtPct(median(r.warm) / median(base.warm))} | ${median(r.cpu).toFixed(1)} µs | ${Math.round(median(r.cold))} | ` +
          `${median(r.p50).toFixed(3)} ms | ${median(r.p99).toFixed(3)} ms | ${median(r.coldP50).toFixed(3)} ms |`,
      );
    }
    const ours = rows.buildfence;
    lines.push(
      '',
      `Goal: at least 80 % of dnsmasq's throughput and p50 within 0.5 ms of it. Measured: ${fmtPct(median(ours.warm) / median(base.warm))} of its cached throughput ` +
        `(CPU per cached query ${median(ours.cpu).toFixed(1)} µs against its ${median(base.cpu).toFixed(1)} µs), ` +
        `p50 ${(median(ours.p50) - median(base.p50)).toFixed(3)} ms from it cached and ${(median(ours.coldP50) - median(base.coldP50)).toFixed(3)} ms on a first (forwarded) answer. ` +
        "The holder-feed row adds what a real run pays on a first answer: the addresses go into the holder's sets before the answer is returned.",
    );
    return lines;
  } finally {
    for (const s of servers) s.child.kill();
    upstream.child.kill();
    await docker(['rm', '--force', holder]).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
