import * as core from '@actions/core';
import { runVerifyAction } from './verify/action.js';

runVerifyAction().catch((err: unknown) => core.setFailed(err instanceof Error ? err.message : String(err)));
