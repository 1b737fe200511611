import * as core from '@actions/core';
import { cleanupAction } from './action.js';

// Post never fails a job: whatever it cannot remove is a warning.
cleanupAction().catch((err: unknown) => core.warning(`buildfence cleanup: ${err instanceof Error ? err.message : String(err)}`));
