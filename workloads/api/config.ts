import os from 'node:os';
import { ConfigError, numberFromEnv } from '../lib/config-error.ts';

export interface ApiConfig {
  version: string;
  podName: string;
  inferenceUrl: string;
  inferenceTimeoutMs: number;
  faultErrorRate: number;
  faultLatencyMs: number;
  readyDelayMs: number;
}

/** Reads and validates the api's environment; a bad value is a ConfigError, so the pod crashes at start. */
export function apiConfigFrom(env: NodeJS.ProcessEnv): ApiConfig {
  const inferenceUrl = env['INFERENCE_URL'] || 'http://ml-inference.ai-inference.svc.cluster.local';
  if (!URL.canParse(inferenceUrl) || !/^https?:$/.test(new URL(inferenceUrl).protocol)) {
    throw new ConfigError(`INFERENCE_URL=${JSON.stringify(inferenceUrl)} is not an http(s) URL`);
  }
  return {
    version: env['BUILD_VERSION'] || 'dev',
    podName: env['POD_NAME'] || os.hostname(),
    inferenceUrl: inferenceUrl.replace(/\/+$/, ''),
    inferenceTimeoutMs: numberFromEnv(env, 'INFERENCE_TIMEOUT_MS', 2000, { min: 1 }),
    faultErrorRate: numberFromEnv(env, 'FAULT_ERROR_RATE', 0, { min: 0, max: 1 }),
    faultLatencyMs: numberFromEnv(env, 'FAULT_LATENCY_MS', 0, { min: 0 }),
    readyDelayMs: numberFromEnv(env, 'READY_DELAY_MS', 0, { min: 0 }),
  };
}
