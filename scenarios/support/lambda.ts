import type { Environment, KubeObject } from '../../env/environment.ts';
import { isReady, podsOf, pollUntil } from './cluster-state.ts';

/** The request path of lambda-microservice (seed 004) that its scenarios drive. */
export const GATEWAY = { namespace: 'openfaas', name: 'gateway' };
export const CONTROLLER = { namespace: 'controller', name: 'rust-controller' };
export const NODE_FUNCTION = { namespace: 'openfaas-fn', name: 'nodejs-runtime' };
export const CONTROLLER_LABELS = { app: 'rust-controller' };
export const NODE_FUNCTION_LABELS = { faas_function: 'nodejs-runtime' };

export function deployment(env: Environment, ref: { namespace: string; name: string }) {
  return env.kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...ref });
}

/** Waits until the Deployment has `replicas` available pods (real-time limit). */
export function waitAvailable(
  env: Environment,
  ref: { namespace: string; name: string },
  replicas: number,
  timeoutMs: number,
): Promise<KubeObject> {
  return pollUntil(
    async () => {
      const d = await deployment(env, ref);
      return (d?.status?.availableReplicas ?? 0) >= replicas ? d : undefined;
    },
    {
      timeoutMs,
      what: `Deployment ${ref.namespace}/${ref.name} with ${replicas} available replicas`,
      everyMs: 200,
    },
  );
}

export async function readyPods(env: Environment, namespace: string, labels: Record<string, string>) {
  return (await podsOf(env, namespace, labels)).filter(isReady);
}
