#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; const require = __bfCreateRequire(import.meta.url);
import {
  AGENT_ENV,
  CONTAINER,
  DEFAULT_AGENT_IMAGE,
  NOT_READY_EXIT,
  POD_PATHS,
  PodRenderError,
  RESOLVER_LISTEN,
  RESOLVER_UID,
  podLabels,
  podName,
  podRuleset,
  renderNetworkPolicy,
  renderPod
} from "./chunk-KRGBTQFY.js";
import "./chunk-5CBOWLYC.js";
export {
  AGENT_ENV,
  CONTAINER,
  DEFAULT_AGENT_IMAGE,
  NOT_READY_EXIT,
  POD_PATHS,
  PodRenderError,
  RESOLVER_LISTEN,
  RESOLVER_UID,
  podLabels,
  podName,
  podRuleset,
  renderNetworkPolicy,
  renderPod
};
