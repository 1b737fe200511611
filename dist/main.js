#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-K7QXXDB2.js";
import {
  setFailed
} from "./chunks/chunk-WEERDOOH.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
