#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  runAction
} from "./chunks/chunk-6YFXFIGJ.js";
import {
  setFailed
} from "./chunks/chunk-QXZCZMAO.js";
import "./chunks/chunk-RCICVK4R.js";
import "./chunks/chunk-5CBOWLYC.js";

// src/main.ts
runAction().catch((err) => setFailed(err instanceof Error ? err.message : String(err)));
