// Every default, in one place. A unit test (test/unit/docs.test.ts) fails when action.yml's
// input defaults say otherwise.

export const HOLDER_IMAGE = 'buildfence/holder:0.1.0';
export const AGENT_IMAGE = 'buildfence/agent:0.1.0';
/** The policy file read when the `policy` input is empty and the file exists. */
export const POLICY_FILE = '.github/buildfence.yml';
/** Docker's default bridge: the network of a plain `docker run`, and the holder's unless one is named. */
export const DOCKER_NETWORK = 'bridge';

/** The build image and the pull policy where the inputs are empty (the host runtime takes neither). */
export const BUILD_IMAGE = 'ubuntu:24.04';
export const PULL = 'missing';

/** How long, in seconds, an address learned from an allowed name stays open: floor and ceiling. */
export const DNS_TTL = { min: 60, max: 3600 } as const;

/**
 * Each action input's default, as action.yml writes it ('' where an empty input means something:
 * the grade's mode, the host's resolvers, Docker's default bridge, the build image and pull
 * policy, which the host runtime refuses when given, ...). `run` has none.
 */
export const INPUT_DEFAULTS = {
  grade: 'dev',
  policy: '',
  allowlist: '',
  image: '',
  shell: 'sh -e',
  'working-directory': '',
  env: '',
  mode: '',
  'holder-image': HOLDER_IMAGE,
  network: '',
  'docker-options': '',
  pull: '',
  'fail-on-denied': '',
  'dns-upstream': '',
  'dns-ttl-min': String(DNS_TTL.min),
  'dns-ttl-max': String(DNS_TTL.max),
  runtime: 'auto',
  'agent-image': AGENT_IMAGE,
  'subject-path': '',
} as const;

export type DefaultedInput = keyof typeof INPUT_DEFAULTS;
