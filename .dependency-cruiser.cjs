// The import rule of design.md and README's layout: imports run one way, top to bottom; the
// runtimes never import each other; no cycles; every file of src/ belongs to a layer.
// `npm run lint:deps` checks it (part of `npm run lint`).
const LAYERS = [
  ['entries', '^src/(main|pre|post|verify-main|cli|action|action-log|terminal-log|state)[.]ts$'],
  ['verify', '^src/verify/'],
  ['inputs', '^src/inputs[.]ts$'],
  ['runtime choice', '^src/choose-runtime[.]ts$'],
  ['runtimes', '^src/(docker|kubernetes|host)/'],
  ['the engine and the holder', '^src/engine/'],
  ['report', '^src/report/'],
  ['dns and the name check', '^src/(dns|wire)/'],
  ['firewall', '^src/firewall/'],
  ['policy', '^src/policy/'],
  ['run vocabulary', '^src/run/'],
];

const upward = LAYERS.slice(1).map(([name, path], i) => ({
  name: `no-upward-from-${name.replaceAll(' ', '-')}`,
  comment: `${name} may not import a layer above it (${LAYERS.slice(0, i + 1)
    .map(([n]) => n)
    .join(', ')})`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(0, i + 1).map(([, p]) => p) },
}));

const RUNTIMES = ['docker', 'kubernetes', 'host'];
const sideways = RUNTIMES.map((r) => ({
  name: `no-${r}-to-other-runtimes`,
  comment: `the ${r} runtime may not import another runtime: what they share lives below them`,
  severity: 'error',
  from: { path: `^src/${r}/` },
  to: { path: RUNTIMES.filter((o) => o !== r).map((o) => `^src/${o}/`) },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'in-a-layer',
      comment: 'every module of src/ belongs to a layer of the layout (README, Layout)',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
      to: {},
    },
    ...upward,
    ...sideways,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
