import type { Environment } from '../../env/environment.ts';
import { waitUntil } from '../../harness/index.ts';

/** The ImageFlowCanvas Deployments every imageflow scenario waits for (infra/imageflowcanvas). */
export const IMAGEFLOW_DEPLOYMENTS = [
  ['imageflow-processing', 'resize'],
  ['imageflow-processing', 'detect'],
  ['imageflow-processing', 'filter'],
  ['imageflow-backend', 'backend-api'],
  ['imageflow-backend', 'pipeline-worker'],
] as const;

/** Waits until each of them has all its replicas available. */
export async function waitForImageflowDeployments(env: Environment): Promise<void> {
  for (const [namespace, name] of IMAGEFLOW_DEPLOYMENTS)
    await env.kube.waitFor(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
      (d) => (d?.status?.availableReplicas ?? 0) >= (d?.spec?.replicas ?? 1),
      { timeout: 180_000, what: `Deployment ${namespace}/${name} available` },
    );
}

/** Polls `f` every 500 ms (an error counts as "not yet") until it gives a result. */
export function until<T>(
  what: string,
  timeoutMs: number,
  f: () => Promise<T | undefined | false>,
): Promise<T> {
  return waitUntil(f, { what, timeout: timeoutMs, interval: 500, retryIf: () => true });
}

/** A 40×30 PPM with one bright square (where it sits depends on n). */
export function squareImage(n: number): Buffer {
  const w = 40;
  const h = 30;
  const rgb = Buffer.alloc(w * h * 3, 20);
  const x0 = 5 + (n % 10);
  for (let y = 8; y < 20; y++)
    for (let x = x0; x < x0 + 12; x++) rgb.fill(230, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`, 'ascii'), rgb]);
}
