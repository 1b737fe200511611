// The run's identity as GitHub gives it to a step (its default environment variables), for the
// record and the attestation. Pure; absent outside GitHub Actions.

export interface GithubRun {
  repository: string;
  workflowRef?: string;
  runId: string;
  runAttempt?: string;
  sha?: string;
  ref?: string;
  eventName?: string;
  actor?: string;
  runnerName?: string;
  runnerOs?: string;
  runnerArch?: string;
  serverUrl?: string;
}

const FIELDS: Record<Exclude<keyof GithubRun, 'repository' | 'runId'>, string> = {
  workflowRef: 'GITHUB_WORKFLOW_REF',
  runAttempt: 'GITHUB_RUN_ATTEMPT',
  sha: 'GITHUB_SHA',
  ref: 'GITHUB_REF',
  eventName: 'GITHUB_EVENT_NAME',
  actor: 'GITHUB_ACTOR',
  runnerName: 'RUNNER_NAME',
  runnerOs: 'RUNNER_OS',
  runnerArch: 'RUNNER_ARCH',
  serverUrl: 'GITHUB_SERVER_URL',
};

export function githubRun(env: NodeJS.ProcessEnv): GithubRun | undefined {
  if (!env.GITHUB_ACTIONS || !env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined;
  const run: GithubRun = { repository: env.GITHUB_REPOSITORY, runId: env.GITHUB_RUN_ID };
  for (const [field, name] of Object.entries(FIELDS) as Array<[keyof typeof FIELDS, string]>) {
    if (env[name]) run[field] = env[name];
  }
  return run;
}
