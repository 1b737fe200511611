import * as core from '@actions/core';
import { runAction } from './action.js';

runAction().catch((err: unknown) => core.setFailed(err instanceof Error ? err.message : String(err)));
