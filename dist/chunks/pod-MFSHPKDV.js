#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  AGENT_ENV,
  CONTAINER,
  DEFAULT_AGENT_IMAGE,
  ENV_PIECE,
  NOT_READY_EXIT,
  POD_ENV_BUDGET,
  POD_PATHS,
  PodRenderError,
  RESOLVER_LISTEN,
  RESOLVER_UID,
  envPieces,
  failedFile,
  podLabels,
  podName,
  podRuleset,
  renderNetworkPolicy,
  renderPod,
  volumeNames
} from "./chunk-XZP3OXPK.js";
import "./chunk-UND5B5GE.js";
export {
  AGENT_ENV,
  CONTAINER,
  DEFAULT_AGENT_IMAGE,
  ENV_PIECE,
  NOT_READY_EXIT,
  POD_ENV_BUDGET,
  POD_PATHS,
  PodRenderError,
  RESOLVER_LISTEN,
  RESOLVER_UID,
  envPieces,
  failedFile,
  podLabels,
  podName,
  podRuleset,
  renderNetworkPolicy,
  renderPod,
  volumeNames
};
