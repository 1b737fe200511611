#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  DEFAULT_POLICY,
  Forwarder,
  LABEL,
  LABEL_HOST,
  LABEL_PID,
  LABEL_RUN,
  LOAD_SCRIPT,
  NFLOG_GROUP,
  PRESET_PREFIX,
  PolicyError,
  RULES_MOUNT,
  RULE_FILES,
  Resolver,
  SCRIPT_MOUNT,
  SetFeed,
  __toESM,
  buildRecord,
  compareRules,
  formatEntry,
  loadPolicy,
  parseReadback,
  readRunSpec,
  renderRuleset,
  require_ipaddr,
  require_shell_quote,
  resolvConfServers,
  runSandbox,
  shellCommand,
  staticMembers,
  terminalLog,
  textSummary,
  verdictOf,
  writeRecord,
  yaml
} from "./chunks/chunk-WEERDOOH.js";

// src/cli.ts
var import_shell_quote = __toESM(require_shell_quote(), 1);
import { parseArgs } from "node:util";

// src/policy/describe.ts
function describePolicy(policy) {
  const grades = [...policy.grades.values()];
  const own = grades.filter((g) => !g.builtIn).length;
  const builtIn = grades.filter((g) => g.builtIn).map((g) => g.name);
  const lines = [
    `# ${policy.file ?? "no policy file"}: valid; ${own} grade${own === 1 ? "" : "s"}` + (builtIn.length > 0 ? `, and the built-in ${builtIn.join(" and ")}` : "") + "."
  ];
  for (const g of grades) lines.push(...describeGrade(g));
  return lines.join("\n") + "\n";
}
function describeGrade(g) {
  const notes = [g.builtIn ? "built in" : "", g.chain.length > 1 ? `extends ${g.chain.slice(1).join(" -> ")}` : ""].filter(Boolean);
  return [
    `${g.name}:${notes.length > 0 ? `  # ${notes.join("; ")}` : ""}`,
    ...g.description === void 0 ? [] : [`  description: ${JSON.stringify(g.description)}`],
    `  mode: ${g.mode}`,
    `  fail-on-denied: ${g.failOnDenied}`,
    ...list("allow", g.allow),
    ...list("deny", g.deny)
  ];
}
function list(key, entries) {
  if (entries.length === 0) return [`  ${key}: []`];
  const texts = entries.map((e) => formatEntry(e)).map((t) => /^[A-Za-z0-9]/.test(t) ? t : JSON.stringify(t));
  const width = Math.max(...texts.map((t) => t.length));
  return [
    `  ${key}:`,
    ...entries.map((e, i) => `    - ${e.text.startsWith(PRESET_PREFIX) ? `${texts[i].padEnd(width)}  # ${e.text}` : texts[i]}`)
  ];
}

// src/kubernetes/agent.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// src/kubernetes/pod.ts
var import_ipaddr = __toESM(require_ipaddr(), 1);
var DEFAULT_AGENT_IMAGE = "buildfence/agent:0.1.0";
var RESOLVER_UID = 53053;
var RESOLVER_LISTEN = { address: "127.0.0.53", port: 5353 };
var CONTAINER = { holder: "holder", verify: "verify", fence: "fence", resolver: "resolver", build: "build" };
var POD_PATHS = {
  readback: `${RULES_MOUNT}/readback`,
  script: "script.sh",
  /** Where the holder writes the script (the build sees the same volume at SCRIPT_MOUNT). */
  holderScript: "/__buildfence-script",
  feed: "/__buildfence-feed",
  ready: "/__buildfence-ready",
  agent: "/opt/buildfence/cli.js",
  node: "/usr/local/bin/node"
};
var AGENT_ENV = { rules: "BUILDFENCE_RULES", resolver: "BUILDFENCE_RESOLVER" };
var READY_WAIT_TENTHS = 600;
var NOT_READY_EXIT = 125;
var PodRenderError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "PodRenderError";
  }
};
function podName(runId) {
  return `buildfence-${runId}`;
}
function podLabels(id) {
  return {
    [LABEL]: "1",
    [LABEL_RUN]: id.runId,
    ...id.pid !== void 0 ? { [LABEL_PID]: String(id.pid) } : {},
    ...id.host !== void 0 ? { [LABEL_HOST]: id.host } : {}
  };
}
function podRuleset(spec, upstreams) {
  checkUpstreams(upstreams);
  const rules = renderRuleset({
    mode: spec.mode,
    allow: addressEntries(spec.allow),
    deny: addressEntries(spec.deny),
    gateways: [],
    resolver: RESOLVER_LISTEN,
    resolverUser: { uid: RESOLVER_UID, upstreams }
  });
  return { ...rules, resolvConf: `nameserver ${podNameserver(upstreams)}
options ndots:0
` };
}
function podNameserver(upstreams) {
  return upstreams.find((u) => import_ipaddr.default.parse(u.address).kind() === "ipv4").address;
}
function renderPod(input) {
  const { spec } = input;
  if (spec.dockerOptions.length > 0) {
    throw new PodRenderError("Input 'docker-options' has no meaning on Kubernetes (the build is a container of a Pod). Remove it.");
  }
  if (spec.network !== void 0) {
    throw new PodRenderError("Input 'network' has no meaning on Kubernetes (the Pod has its own network namespace). Remove it.");
  }
  const rules = podRuleset(spec, input.upstreams);
  const pull = spec.pull === "never" ? "Never" : "IfNotPresent";
  const resolver = {
    staticElements: [...staticMembers(rules)],
    mode: spec.mode,
    allow: spec.allow,
    deny: spec.deny,
    ttlMin: spec.dns.ttlMin,
    ttlMax: spec.dns.ttlMax,
    upstreams: input.upstreams,
    listen: RESOLVER_LISTEN
  };
  const mounts = {
    rules: { name: "bf-rules", mountPath: RULES_MOUNT },
    script: { name: "bf-script", mountPath: SCRIPT_MOUNT },
    feed: { name: "bf-feed", mountPath: POD_PATHS.feed },
    ready: { name: "bf-ready", mountPath: POD_PATHS.ready }
  };
  const holderScript = [
    "set -e",
    `printf %s "$BF_IPSET" > ${RULES_MOUNT}/${RULE_FILES.ipset}`,
    `printf %s "$BF_V4" > ${RULES_MOUNT}/${RULE_FILES.v4}`,
    `printf %s "$BF_V6" > ${RULES_MOUNT}/${RULE_FILES.v6}`,
    `printf %s "$BF_RESOLV" > ${RULES_MOUNT}/${RULE_FILES.resolvConf}`,
    // base64: Kubernetes expands $(NAME) in env values, which a script may well contain.
    `printf %s "$BF_SCRIPT" | base64 -d > ${POD_PATHS.holderScript}/${POD_PATHS.script}`,
    `chmod 0644 ${POD_PATHS.holderScript}/${POD_PATHS.script}`,
    // The resolver's user owns the FIFOs; the fence's root (without DAC_OVERRIDE) opens them as group 0.
    `mkfifo -m 0660 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out`,
    `chown ${RESOLVER_UID}:0 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out`,
    `chmod 0777 ${POD_PATHS.ready}`,
    // The load script prints the read-back; init containers' logs may vanish, a file does not.
    `(
${LOAD_SCRIPT}
) > ${POD_PATHS.readback}`
  ].join("\n");
  const holder = {
    name: CONTAINER.holder,
    image: spec.holderImage,
    imagePullPolicy: pull,
    command: ["sh", "-c", holderScript],
    env: [
      { name: "BF_IPSET", value: rules.ipset },
      { name: "BF_V4", value: rules.v4 + rules.nat4 },
      { name: "BF_V6", value: rules.v6 },
      { name: "BF_RESOLV", value: rules.resolvConf },
      { name: "BF_SCRIPT", value: Buffer.from(spec.run.endsWith("\n") ? spec.run : `${spec.run}
`).toString("base64") }
    ],
    volumeMounts: [mounts.rules, { ...mounts.script, mountPath: POD_PATHS.holderScript }, mounts.feed, mounts.ready],
    // NET_ADMIN for iptables and ipset; NET_RAW because the set match asks ipset over a raw
    // socket; CHOWN for the FIFOs the resolver owns.
    securityContext: rootWith(["NET_ADMIN", "NET_RAW", "CHOWN"])
  };
  const verify = {
    name: CONTAINER.verify,
    image: input.agentImage,
    imagePullPolicy: pull,
    command: [POD_PATHS.node, POD_PATHS.agent, "pod-verify", POD_PATHS.readback],
    env: [{ name: AGENT_ENV.rules, value: JSON.stringify(rules) }],
    volumeMounts: [{ ...mounts.rules, readOnly: true }],
    securityContext: unprivileged(RESOLVER_UID)
  };
  const iface = `nflog:${NFLOG_GROUP.denied},${NFLOG_GROUP.audit}`;
  const fenceScript = [
    // The log of this container is the evidence: one tcpdump line per denied attempt.
    `tcpdump -tt -q -n -l -e -i ${iface} 2>/tmp/tcpdump.err &`,
    "pid=$!",
    `until grep -q 'listening on' /tmp/tcpdump.err; do kill -0 $pid 2>/dev/null || { cat /tmp/tcpdump.err >&2; exit 1; }; sleep 0.1; done`,
    `touch ${POD_PATHS.ready}/fence`,
    `exec ipset - < ${POD_PATHS.feed}/in 2> ${POD_PATHS.feed}/out > /dev/null`
  ].join("\n");
  const native = input.sidecars === "native";
  const sidecar = (c, ready) => native ? { ...c, restartPolicy: "Always", startupProbe: { exec: { command: ready === "fence" ? ["test", "-e", `${POD_PATHS.ready}/fence`] : [POD_PATHS.node, "-e", `require('fs').accessSync('${POD_PATHS.ready}/${ready}')`] }, periodSeconds: 1, failureThreshold: 60 } } : c;
  const fence = sidecar(
    {
      name: CONTAINER.fence,
      image: spec.holderImage,
      imagePullPolicy: pull,
      command: ["sh", "-c", fenceScript],
      volumeMounts: [mounts.feed, mounts.ready],
      // SETUID and SETGID: tcpdump drops to its own user once it listens.
      securityContext: rootWith(["NET_ADMIN", "NET_RAW", "SETUID", "SETGID"])
    },
    "fence"
  );
  const resolverContainer = sidecar(
    {
      name: CONTAINER.resolver,
      image: input.agentImage,
      imagePullPolicy: pull,
      command: [POD_PATHS.node, POD_PATHS.agent, "pod-resolver"],
      env: [{ name: AGENT_ENV.resolver, value: JSON.stringify(resolver) }],
      volumeMounts: [mounts.feed, mounts.ready],
      securityContext: unprivileged(RESOLVER_UID)
    },
    "resolver"
  );
  const script = `${SCRIPT_MOUNT}/${POD_PATHS.script}`;
  const waitReady = [
    `i=0; while [ ! -e ${POD_PATHS.ready}/fence ] || [ ! -e ${POD_PATHS.ready}/resolver ]; do`,
    `  i=$((i+1)); [ $i -le ${READY_WAIT_TENTHS} ] || { echo 'buildfence: the fence or the resolver did not start; the build was not run' >&2; exit ${NOT_READY_EXIT}; }`,
    "  sleep 0.1",
    "done",
    'exec "$@"'
  ].join("\n");
  const build = {
    name: CONTAINER.build,
    image: spec.image,
    imagePullPolicy: pull,
    command: ["sh", "-c", waitReady, "sh", ...shellCommand(spec.shell, script)],
    // Without the runner's claim there is no workspace here: the image's own directory.
    ...input.claimName ? { workingDir: spec.workingDirectory } : {},
    env: [...input.runnerEnv ?? [], ...spec.env].map(([name, value]) => ({ name, value: escapeDollars(value) })),
    volumeMounts: [
      { ...mounts.script, readOnly: true },
      { ...mounts.ready, readOnly: true },
      ...input.claimName ? [{ name: "workspace", mountPath: spec.workspace }] : []
    ],
    securityContext: {
      privileged: false,
      allowPrivilegeEscalation: false,
      // SETUID: with it a root build could take the resolver's uid, and with it the way upstream.
      capabilities: { drop: ["NET_ADMIN", "NET_RAW", "SETUID"] }
    }
  };
  const volumes = [
    { name: "bf-rules", emptyDir: {} },
    { name: "bf-script", emptyDir: {} },
    { name: "bf-feed", emptyDir: {} },
    { name: "bf-ready", emptyDir: {} },
    ...input.claimName ? [{ name: "workspace", persistentVolumeClaim: { claimName: input.claimName } }] : []
  ];
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName(input.id.runId),
      ...input.namespace ? { namespace: input.namespace } : {},
      labels: podLabels(input.id),
      annotations: { "buildfence/grade": spec.grade, "buildfence/mode": spec.mode }
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      shareProcessNamespace: false,
      ...input.nodeName ? { nodeName: input.nodeName } : {},
      // Any DNS packet is sent to the resolver by the nat rule; naming an upstream here keeps
      // resolv.conf what a build expects to see, and the packet never reaches it.
      dnsPolicy: "None",
      dnsConfig: { nameservers: [podNameserver(input.upstreams)], options: [{ name: "ndots", value: "0" }] },
      initContainers: [holder, verify, ...native ? [fence, resolverContainer] : []],
      containers: [...native ? [] : [fence, resolverContainer], build],
      volumes
    }
  };
  return { pod, rules };
}
function renderNetworkPolicy(spec, id, upstreams, namespace) {
  if (spec.mode !== "block") {
    throw new PodRenderError(`Grade '${spec.grade}' runs in audit mode, which lets everything through: a NetworkPolicy would block what audit only records. Leave out --networkpolicy.`);
  }
  const names = spec.allow.filter((e) => e.kind === "name");
  if (names.length > 0) {
    throw new PodRenderError(
      `A NetworkPolicy cannot name hosts, so it would block the addresses of ${names.map((e) => `'${e.text}'`).join(", ")}. Use --networkpolicy only with address entries (the Pod alone fences names).`
    );
  }
  const deny = addressEntries(spec.deny);
  const egress = addressEntries(spec.allow).map((e) => ({
    to: [{ ipBlock: { cidr: e.cidr, ...exceptions(e, deny) } }],
    ports: e.protocols.map((p) => ({
      protocol: p.toUpperCase(),
      ...e.ports ? { port: e.ports.from, ...e.ports.to !== e.ports.from ? { endPort: e.ports.to } : {} } : {}
    }))
  }));
  for (const u of upstreams) {
    const cidr = `${u.address}/${import_ipaddr.default.parse(u.address).kind() === "ipv4" ? 32 : 128}`;
    egress.push({ to: [{ ipBlock: { cidr } }], ports: ["UDP", "TCP"].map((protocol) => ({ protocol, port: u.port })) });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: podName(id.runId), ...namespace ? { namespace } : {}, labels: podLabels(id) },
    spec: { podSelector: { matchLabels: { [LABEL_RUN]: id.runId } }, policyTypes: ["Egress"], egress }
  };
}
function checkUpstreams(upstreams) {
  if (upstreams.length === 0) throw new PodRenderError("The Pod needs a DNS upstream: set input 'dns-upstream' (--dns-upstream).");
  for (const u of upstreams) {
    if (import_ipaddr.default.parse(u.address).range() === "loopback") {
      throw new PodRenderError(
        `DNS upstream ${u.address} is a loopback address, which a Pod cannot reach. Set input 'dns-upstream' (--dns-upstream) to the cluster's DNS service (kubectl -n kube-system get service kube-dns).`
      );
    }
  }
  if (!upstreams.some((u) => import_ipaddr.default.parse(u.address).kind() === "ipv4")) {
    throw new PodRenderError("The Pod needs an IPv4 DNS upstream (DNS is answered over IPv4 only): add one to input 'dns-upstream'.");
  }
}
function exceptions(allow, deny) {
  const [net, prefix] = import_ipaddr.default.parseCIDR(allow.cidr);
  const inside = deny.filter((d) => d.family === allow.family).filter((d) => {
    const [addr, p] = import_ipaddr.default.parseCIDR(d.cidr);
    return p > prefix && addr.match(net, prefix);
  }).map((d) => d.cidr);
  return inside.length > 0 ? { except: [...new Set(inside)] } : {};
}
function rootWith(caps) {
  return { runAsUser: 0, runAsNonRoot: false, privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: caps } };
}
function unprivileged(uid) {
  return {
    runAsUser: uid,
    runAsGroup: uid,
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] }
  };
}
function escapeDollars(value) {
  return value.replace(/\$/g, () => "$$");
}
function addressEntries(entries) {
  return entries.filter((e) => e.kind === "address");
}

// src/kubernetes/agent.ts
function podVerify(readbackFile, env = process.env) {
  const rules = JSON.parse(requireEnv(env, AGENT_ENV.rules));
  const diffs = compareRules(rules, parseReadback(fs.readFileSync(readbackFile, "utf8")));
  if (diffs.length === 0) {
    process.stdout.write("buildfence: the rules read back from the holder equal the rules rendered.\n");
    return 0;
  }
  process.stderr.write(`buildfence: the rules read back from the holder differ from the rules rendered, so the build is not started:
  ${diffs.join("\n  ")}
`);
  return 1;
}
var DECISION_PREFIX = "buildfence-dns ";
async function podResolver(env = process.env) {
  const config = JSON.parse(requireEnv(env, AGENT_ENV.resolver));
  const forwarder = new Forwarder(config.upstreams);
  const resolver = new Resolver({
    mode: config.mode,
    allow: config.allow,
    deny: config.deny,
    ttlMin: config.ttlMin,
    ttlMax: config.ttlMax,
    forwarder,
    onWarning: (m) => process.stderr.write(`warning: ${m}
`),
    onDecision: (d) => process.stdout.write(`${DECISION_PREFIX}${JSON.stringify(d)}
`)
  });
  await resolver.listen(config.listen.address, config.listen.port);
  const input = fs.createWriteStream(path.join(POD_PATHS.feed, "in"));
  const output = fs.createReadStream(path.join(POD_PATHS.feed, "out"));
  await Promise.all([opened(input), opened(output)]);
  const feed = new SetFeed({ input, output, close: () => output.destroy() });
  const own = Object.values(os.networkInterfaces()).flatMap((list2) => (list2 ?? []).map((i) => i.address));
  resolver.serve(own, feed, new Set(config.staticElements));
  fs.writeFileSync(path.join(POD_PATHS.ready, "resolver"), "");
  process.stderr.write(`buildfence resolver: listening on ${config.listen.address}:${config.listen.port}, upstreams ${config.upstreams.map((u) => `${u.address}:${u.port}`).join(", ")}
`);
  await new Promise((resolve) => process.once("SIGTERM", () => resolve()));
  feed.close();
  await resolver.close();
  forwarder.close();
}
function opened(stream) {
  return new Promise((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
}
function requireEnv(env, name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: this command runs inside a Pod that buildfence rendered.`);
  return value;
}

// src/kubernetes/render.ts
import { randomBytes } from "node:crypto";
import * as fs2 from "node:fs/promises";
async function renderPodManifest(spec, options, runId = randomBytes(6).toString("hex")) {
  const upstreams = spec.dns.upstreams ?? await hostResolvers();
  const id = { runId };
  const { pod } = renderPod({
    spec,
    id,
    upstreams,
    agentImage: options.agentImage ?? DEFAULT_AGENT_IMAGE,
    sidecars: options.sidecars,
    namespace: options.namespace
  });
  const objects = [pod];
  if (options.networkPolicy) objects.push(renderNetworkPolicy(spec, id, upstreams, options.namespace));
  return objects.map((o) => toYaml(o)).join("---\n");
}
function toYaml(object) {
  return yaml.dump(object, { lineWidth: -1, noRefs: true });
}
async function hostResolvers() {
  return resolvConfServers(await fs2.readFile("/etc/resolv.conf", "utf8").catch(() => ""));
}

// src/cli.ts
var VALUE_FLAGS = [
  "policy",
  "grade",
  "image",
  "shell",
  "working-directory",
  "mode",
  "holder-image",
  "network",
  "docker-options",
  "pull",
  "dns-upstream",
  "dns-ttl-min",
  "dns-ttl-max"
];
var USAGE = `Usage: buildfence run [options] -- COMMAND [ARGS...]
       buildfence render-pod [options] [--networkpolicy] -- COMMAND [ARGS...]
       buildfence check-policy [FILE]

run: runs COMMAND in a build container whose outbound network is fenced.
render-pod: prints the same fence as a Kubernetes Pod (YAML, for kubectl apply), without running
  it; takes the options of run (not --network, --docker-options, --report), and:
  --networkpolicy            also print an egress NetworkPolicy for the address entries
  --agent-image IMAGE        image of the Pod's verifier and resolver (default buildfence/agent:0.1.0)
  --sidecars native|regular  fence and resolver as native sidecars (Kubernetes 1.29+, the
                             default) or as regular containers
  --namespace NAME           the Pod's namespace (default: kubectl's)
check-policy: validates a policy file (default ${DEFAULT_POLICY}) and prints, per grade, the
  mode, fail-on-denied and the effective allow and deny lists, presets expanded.

Options of run (each mirrors the action input of the same name):
  --policy FILE              policy file with the grades (default ${DEFAULT_POLICY} when it exists)
  --grade NAME               a grade of the policy file, or the built-in dev (audit, the default)
                             or release (block)
  --allow ENTRY              allowlist entry or preset; repeatable (203.0.113.7, 10.0.0.0/8:443,
                             udp://[2001:db8::1]:53, preset:npm)
  --image IMAGE              build image (default ubuntu:24.04)
  --shell SHELL              how the script runs (default 'sh -e')
  --working-directory DIR    relative to the current directory
  --env KEY=VALUE            variable for the build; repeatable
  --mode block|audit         override the grade's mode
  --holder-image IMAGE       holder image (default buildfence's own)
  --network NAME             existing Docker network for the holder (default: a fresh one)
  --docker-options OPTS      extra docker run options for the build container
  --pull missing|never       whether docker may pull missing images (default missing)
  --dns-upstream LIST        resolvers for allowed names (default: the host's own)
  --dns-ttl-min SECONDS      floor for how long a learned address stays open (default 60)
  --dns-ttl-max SECONDS      ceiling for the same (default 3600)
  --fail-on-denied           fail (exit 1) when anything was denied, even if the build passed
  --report FILE              write the JSON evidence record to FILE
  --verbose                  print debug messages
  -h, --help                 this text

The exit status of run is the build's when it failed, 1 when only fail-on-denied failed it,
2 when buildfence itself fails. check-policy exits
with 0 when the policy is valid, 1 when it is not, 2 on any other error.
`;
async function main(argv) {
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, { type: "string" }])),
      allow: { type: "string", multiple: true },
      report: { type: "string" },
      "fail-on-denied": { type: "boolean" },
      env: { type: "string", multiple: true },
      verbose: { type: "boolean" },
      networkpolicy: { type: "boolean" },
      "agent-image": { type: "string" },
      sidecars: { type: "string" },
      namespace: { type: "string" },
      help: { type: "boolean", short: "h" }
    }
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals[0] === "check-policy") return checkPolicy(positionals.slice(1), values.policy);
  if (positionals[0] === "pod-verify" && positionals.length === 2) return podVerify(positionals[1]);
  if (positionals[0] === "pod-resolver" && positionals.length === 1) return podResolver().then(() => 0);
  const verb = positionals[0];
  if (verb !== "run" && verb !== "render-pod" || positionals.length !== 1) throw new Error(`expected 'run', 'render-pod' or 'check-policy'.

${USAGE}`);
  if (command.length === 0) throw new Error(`no command given after '--'.

${USAGE}`);
  const flag = values;
  const inputs = {
    ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, flag[f] ?? ""])),
    allowlist: (flag.allow ?? []).join("\n"),
    env: (flag.env ?? []).join("\n"),
    run: command.length === 1 ? command[0] : (0, import_shell_quote.quote)(command),
    "fail-on-denied": flag["fail-on-denied"] ? "true" : ""
  };
  const spec = readRunSpec((name) => inputs[name] ?? "", { workspace: process.cwd(), allowlistSource: "--allow" });
  if (verb === "render-pod") {
    const sidecars = flag.sidecars ?? "native";
    if (sidecars !== "native" && sidecars !== "regular") throw new Error(`--sidecars has invalid value '${sidecars}'. Expected 'native' or 'regular'.`);
    process.stdout.write(
      await renderPodManifest(spec, {
        networkPolicy: Boolean(flag.networkpolicy),
        agentImage: flag["agent-image"],
        sidecars,
        namespace: flag.namespace
      })
    );
    return 0;
  }
  const result = await runSandbox(spec, terminalLog({ verbose: Boolean(values.verbose) }));
  const record = buildRecord(spec, result);
  if (typeof flag.report === "string") await writeRecord(record, flag.report);
  process.stderr.write(textSummary(record));
  const failure = verdictOf(record, spec.failOnDenied);
  if (failure) process.stderr.write(`buildfence: ${failure}
`);
  return record.exitCode !== 0 ? record.exitCode : failure ? 1 : 0;
}
function checkPolicy(files, policyFlag) {
  if (files.length + (policyFlag === void 0 ? 0 : 1) > 1) throw new Error(`check-policy takes one policy file.

${USAGE}`);
  const named = files[0] ?? policyFlag ?? "";
  try {
    const policy = loadPolicy(named, process.cwd(), "check-policy");
    if (policy.file === void 0) throw new Error(`there is no ${DEFAULT_POLICY} here; name the policy file: buildfence check-policy FILE`);
    process.stdout.write(describePolicy(policy));
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    process.stderr.write(`${err.message}
`);
    return 1;
  }
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`buildfence: ${err instanceof Error ? err.message : String(err)}
`);
    process.exit(2);
  }
);
