// Container jobs and service containers, the pure parts: finding the job container, its paths on
// the host, where the fence sits, the Docker host's addresses, the network's names and what the
// allowlist opens with them, and the resolver answering those names itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import type * as os from 'node:os';
import {
  containerIds,
  hostFile,
  hostPath,
  inRunnerJobContainer,
  jobContainerHint,
  type JobContainer,
} from '../../src/engine/job-container.js';
import { holderNetwork, placement } from '../../src/engine/placement.js';
import { localAddresses } from '../../src/engine/host-view.js';
import { serviceEntries } from '../../src/engine/services.js';
import { NetworkNames, networkAnswer } from '../../src/dns/network-names.js';
import { addressReply, readQuery } from '../../src/dns/query.js';
import { Resolver } from '../../src/dns/resolver.js';
import type { Forwarder } from '../../src/dns/upstream.js';
import { parseAllowlist } from '../../src/policy/allowlist.js';
import { listInput } from '../../src/inputs.js';

const ID = 'a'.repeat(64);
const entries = (text: string) => (text === '' ? [] : parseAllowlist(listInput(text, { commas: true, comments: true }), 'test'));

/** The runner's mounts of a job container (actions/runner: ContainerOperationProvider), host side under /home/runner. */
const RUNNER_MOUNTS = [
  { Type: 'bind', Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock' },
  { Type: 'bind', Source: '/home/runner/work', Destination: '/__w' },
  { Type: 'bind', Source: '/home/runner/runners/2.330.0/externals', Destination: '/__e' },
  { Type: 'bind', Source: '/home/runner/work/_temp', Destination: '/__w/_temp' },
  { Type: 'bind', Source: '/home/runner/work/_actions', Destination: '/__w/_actions' },
  { Type: 'bind', Source: '/opt/hostedtoolcache', Destination: '/__t' },
  { Type: 'bind', Source: '/home/runner/work/_temp/_github_home', Destination: '/github/home' },
  { Type: 'bind', Source: '/home/runner/work/_temp/_github_workflow', Destination: '/github/workflow' },
  { Type: 'volume', Name: 'cache', Source: '/var/lib/docker/volumes/cache/_data', Destination: '/cache', Driver: 'local' },
  { Type: 'volume', Source: '', Destination: '/remote', Driver: 'nfs-plugin' },
];

const job: JobContainer = {
  id: ID,
  name: 'a1b2c3_node20',
  mounts: RUNNER_MOUNTS,
  networkMode: 'github_network_5e1f',
  networks: { github_network_5e1f: { IPAddress: '172.18.0.2', Gateway: '172.18.0.1' } },
};

describe('the job container', () => {
  it('is found by the container ID in the mounts the engine gives it, on cgroup v1 and v2 alike', () => {
    const mountinfo = [
      '305 218 0:106 / / rw,relatime master:9 - overlay overlay rw',
      `322 305 254:0 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw`,
      `323 305 254:0 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw`,
      // A data root on a filesystem of its own, and a mount of the same file elsewhere: only /etc counts.
      `324 305 254:1 /containers/${'b'.repeat(64)}/hosts /etc/hosts rw - ext4 /dev/vdb rw`,
      `325 305 254:1 /containers/${'c'.repeat(64)}/hosts /srv/hosts rw - ext4 /dev/vdb rw`,
    ].join('\n');
    assert.deepEqual(containerIds(mountinfo, '0::/\n'), [ID, 'b'.repeat(64)]);
    assert.deepEqual(containerIds('', `12:pids:/docker/${ID}\n`), [ID]);
    assert.deepEqual(containerIds('305 218 0:106 / / rw - ext4 /dev/vda rw\n', '0::/init.scope\n'), []);
  });

  it("knows the runner's container-job layout, and says what to mount when the engine is out of reach", () => {
    assert.equal(inRunnerJobContainer({ GITHUB_WORKSPACE: '/__w/repo/repo' }), true);
    assert.equal(inRunnerJobContainer({ GITHUB_WORKSPACE: '/home/runner/work/repo/repo' }), false);
    assert.match(jobContainerHint({ GITHUB_WORKSPACE: '/__w/repo/repo' }), /mounts the engine's socket at \/var\/run\/docker\.sock/);
    assert.equal(jobContainerHint({}), '');
  });

  it('maps a path to the host through the deepest mount that holds it', () => {
    const cases: Array<[string, string | undefined]> = [
      ['/__w/repo/repo', '/home/runner/work/repo/repo'],
      ['/__w/_temp/buildfence-x/rules', '/home/runner/work/_temp/buildfence-x/rules'],
      ['/__w/_temp', '/home/runner/work/_temp'],
      ['/github/home/.cache', '/home/runner/work/_temp/_github_home/.cache'],
      ['/__e/node20/bin/node', '/home/runner/runners/2.330.0/externals/node20/bin/node'],
      ['/cache/npm', '/var/lib/docker/volumes/cache/_data/npm'],
      // Not on a mount, a prefix that is not a parent, a volume of another driver: no host path.
      ['/tmp/x', undefined],
      ['/__workspace', undefined],
      ['/remote/x', undefined],
    ];
    for (const [inside, outside] of cases) assert.equal(hostPath(RUNNER_MOUNTS, inside), outside, inside);
    // A volume's files are said to be the volume's (the translated-path guard judges the volume by what it was made from).
    assert.deepEqual(hostFile(RUNNER_MOUNTS, '/cache/npm'), { path: '/var/lib/docker/volumes/cache/_data/npm', volume: 'cache' });
    assert.deepEqual(hostFile(RUNNER_MOUNTS, '/__w/repo'), { path: '/home/runner/work/repo' });
  });
});

describe('where the fence sits', () => {
  const label = "Input 'network'";
  const jobNet = { name: 'github_network_5e1f', gateways: ['172.18.0.1'], subnets: ['172.18.0.0/16'] };
  const bridge = { name: 'bridge', gateways: ['172.17.0.1'], subnets: ['172.17.0.0/16'] };
  const eth0 = (address: string): NodeJS.Dict<os.NetworkInterfaceInfo[]> => ({
    eth0: [{ address, netmask: '255.255.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null }],
  });
  const interfaces = eth0('172.18.0.2');

  it("in a job container: the job's network, implicitly; another network is an error that says what to set", () => {
    assert.equal(holderNetwork(job, undefined, label), 'github_network_5e1f');
    assert.equal(holderNetwork(job, 'github_network_5e1f', label), 'github_network_5e1f');
    assert.throws(
      () => holderNetwork(job, 'bridge', label),
      /Input 'network' is 'bridge', which is not a network of job container a1b2c3_node20 \(it is on github_network_5e1f\).*network: \$\{\{ job\.container\.network \}\}/,
    );
    assert.throws(
      () => holderNetwork({ ...job, networks: { a: {}, b: {} } }, undefined, label),
      /on several networks \(a, b\): set Input 'network'/,
    );
    assert.throws(() => holderNetwork({ ...job, networkMode: 'none', networks: {} }, undefined, label), /network mode 'none'/);
    // A job container on the host's network is placed as the runner is.
    assert.equal(holderNetwork({ ...job, networkMode: 'host', networks: { host: {} } }, undefined, label), 'bridge');
  });

  it('in a job container: the resolver and the drain mark at its address; the host, its gateway and the job container guarded', () => {
    const p = placement({ job, net: jobNet, dockerHost: ['10.1.0.4', '172.17.0.1', '172.18.0.1'], interfaces });
    assert.equal(p.listen, '172.18.0.2');
    assert.deepEqual(p.guarded.sort(), ['10.1.0.4', '172.17.0.1', '172.18.0.1', '172.18.0.2']);
    assert.deepEqual(p.guardedNetworks, []);
    assert.equal(p.named, true);
  });

  it("on the runner: the network's gateway; the default bridge guarded whole unless it was named", () => {
    const p = placement({ net: bridge, interfaces: eth0('10.1.0.4') });
    assert.equal(p.listen, '172.17.0.1');
    assert.deepEqual(p.guarded, ['172.17.0.1', '10.1.0.4']);
    assert.deepEqual(p.guardedNetworks, ['172.17.0.0/16']);
    assert.equal(p.named, false);
    assert.deepEqual(placement({ net: jobNet, requested: 'github_network_5e1f', interfaces: {} }).guardedNetworks, []);
  });
});

describe("the Docker host's addresses", () => {
  it('are the local leaves of fib_trie and the addresses of if_inet6, loopback and link-local aside', () => {
    const text = [
      'Main:',
      '  +-- 0.0.0.0/0 3 0 5',
      '     |-- 10.1.0.4',
      '        /32 link UNICAST',
      'Local:',
      '  +-- 0.0.0.0/0 3 0 5',
      '     |-- 10.1.0.4',
      '        /32 host LOCAL',
      '     |-- 127.0.0.1',
      '        /32 host LOCAL',
      '        |-- 172.17.0.1',
      '           /32 host LOCAL',
      '        |-- 172.17.255.255',
      '           /32 link BROADCAST',
      '---',
      'fd000000000000000000000000000002 04 40 00 82     eth0',
      'fe8000000000000000425cfffee462ca a4 40 20 80 br-2470f3271282',
      '00000000000000000000000000000001 01 80 10 80       lo',
    ].join('\n');
    assert.deepEqual(localAddresses(text), ['10.1.0.4', '172.17.0.1', 'fd00::2']);
  });
});

describe('service containers by name', () => {
  const names = new NetworkNames('jobnet', [
    { name: 'bf_db_1a2b', addresses: ['172.18.0.3'] },
    { name: 'db', addresses: ['172.18.0.3', 'fd00::3'] },
    { name: '3f2a1b0c9d8e', addresses: ['172.18.0.3'] },
    { name: 'Cache', addresses: ['172.18.0.4'] },
  ]);
  const where = { label: "Input 'network'", jobContainer: false };

  it("open the named container on the entry's ports only; a deny entry keeps it closed", () => {
    const opened = serviceEntries(entries('db:5432, udp://cache:9000, example.com:443'), [], names, where);
    assert.deepEqual(
      opened.map((e) => [e.cidr, e.protocols, e.ports]),
      [
        ['172.18.0.3/32', ['tcp'], { from: 5432, to: 5432 }],
        ['fd00::3/128', ['tcp'], { from: 5432, to: 5432 }],
        ['172.18.0.4/32', ['udp'], { from: 9000, to: 9000 }],
      ],
    );
    assert.deepEqual(serviceEntries(entries('db:5432'), entries('db'), names, where), []);
  });

  it('a single-label name no container answers to fails, saying what is there and what to set', () => {
    assert.throws(
      () => serviceEntries(entries('postgres:5432'), [], names, where),
      /Allowlist entry 'postgres:5432' names no container on network 'jobnet' \(its containers answer to bf_db_1a2b, db, cache\)\. .*set Input 'network' to the job's network \(network: \$\{\{ job\.services\.postgres\.network \}\}\)/,
    );
    assert.throws(
      () => serviceEntries(entries('postgres:5432'), [], names, { ...where, jobContainer: true }),
      /the job container is on the job's network already/,
    );
    assert.throws(
      () => serviceEntries(entries('db:5432'), [], undefined, where),
      /'db:5432' is a single-label name.*on Docker's default bridge, where containers have no names: set Input 'network'/,
    );
    // A name with a domain, a wildcard, localhost: not meant for a service.
    assert.deepEqual(serviceEntries(entries('registry.test:443, *.example.com, localhost'), [], undefined, where), []);
  });

  it("are answered with the network's addresses for the question's type, the question echoed as sent", () => {
    const query = dnsPacket.encode({ type: 'query', id: 9, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'AAAA', name: 'DB' }] });
    const reply = dnsPacket.decode(addressReply(query, readQuery(query), networkAnswer(names.lookup('db')!, 'AAAA'), 512));
    assert.equal(reply.id, 9);
    assert.equal(reply.flags! & dnsPacket.RECURSION_DESIRED, dnsPacket.RECURSION_DESIRED);
    assert.deepEqual(reply.questions, [{ type: 'AAAA', name: 'DB', class: 'IN' }]);
    assert.deepEqual(
      reply.answers?.map((a) => [a.type, a.name, (a as { data: string }).data, (a as { ttl: number }).ttl]),
      [['AAAA', 'DB', 'fd00::3', 600]],
    );
    assert.deepEqual(networkAnswer(names.lookup('db')!, 'MX'), []);
  });

  it('answer with the EDNS the query had, and truncated when the records do not fit', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ address: `172.18.1.${i + 1}`, ttl: 600 }));
    const plain = dnsPacket.encode({ type: 'query', id: 3, questions: [{ type: 'A', name: 'db' }] });
    const edns = dnsPacket.encode({
      type: 'query',
      id: 4,
      questions: [{ type: 'A', name: 'db' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
      ],
    });
    const truncated = dnsPacket.decode(addressReply(plain, readQuery(plain), many, 512));
    assert.equal(truncated.flags! & dnsPacket.TRUNCATED_RESPONSE, dnsPacket.TRUNCATED_RESPONSE);
    assert.deepEqual(truncated.answers, []);
    const whole = dnsPacket.decode(addressReply(edns, readQuery(edns), many, 1232));
    assert.equal(whole.answers?.length, 40);
    assert.deepEqual(
      whole.additionals?.map((a) => a.type),
      ['OPT'],
    );
  });
});

describe("the resolver and the network's names", () => {
  function resolver(mode: 'block' | 'audit', allow: string) {
    const forwarded: string[] = [];
    const forwarder = {
      async forward(q: Buffer) {
        forwarded.push(readQuery(q).question?.name ?? '');
        return Buffer.alloc(0);
      },
    } as unknown as Forwarder;
    const names = new NetworkNames('jobnet', [
      { name: 'db', addresses: ['172.18.0.3'] },
      { name: 'cache', addresses: ['172.18.0.4'] },
    ]);
    const r = new Resolver({ mode, allow: entries(allow), deny: [], ttlMin: 60, ttlMax: 3600, forwarder, networkNames: names });
    const fed: unknown[] = [];
    r.serve([], { add: async (m) => void fed.push(m) }, new Set());
    const ask = async (name: string) => {
      const reply = dnsPacket.decode(await r.answer(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name }] }), 'udp'));
      return [(reply as { rcode?: string }).rcode, reply.answers?.map((a) => (a as { data: string }).data)];
    };
    return { r, ask, forwarded, fed };
  }

  it('block: an allowed service is answered from the network, never forwarded, nothing fed; another gets NXDOMAIN', async () => {
    const h = resolver('block', 'db:5432');
    assert.deepEqual(await h.ask('db'), ['NOERROR', ['172.18.0.3']]);
    assert.deepEqual(await h.ask('cache'), ['NXDOMAIN', []]);
    assert.deepEqual([h.forwarded, h.fed], [[], []]);
    assert.deepEqual(
      h.r.decisionLog().map((d) => [d.name, d.verdict, d.forwarded, d.addresses]),
      [
        ['db', 'allowed', false, ['172.18.0.3']],
        ['cache', 'refused', false, []],
      ],
    );
  });

  it('audit: every service is answered from the network and recorded with the name that led to it; none forwarded', async () => {
    const h = resolver('audit', '');
    assert.deepEqual(await h.ask('cache'), ['NOERROR', ['172.18.0.4']]);
    assert.deepEqual(h.forwarded, []);
    assert.deepEqual(
      h.r.decisionLog().map((d) => [d.name, d.verdict, d.forwarded]),
      [['cache', 'audited', false]],
    );
    assert.deepEqual([...(h.r.namesOf.get('172.18.0.4')?.names.keys() ?? [])], ['cache']);
  });
});
