#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-5GKBWLWB.js";
import {
  setFailed
} from "./chunks/chunk-XDX6YX26.js";
import "./chunks/chunk-RCICVK4R.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
