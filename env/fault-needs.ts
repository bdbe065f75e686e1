import { TwinError } from '../core/errors.ts';
import type { Faults } from './environment.ts';

/** A fault of the Environment API, by its method name (`stopNode`, `killPod`, …). */
export type FaultName = keyof Faults;

/**
 * What a fault needs from the environment, beyond reading and writing objects:
 * - `kubernetes-api`: only the API server (deleting a pod, cordon, the Eviction API);
 * - `node-access`: the machine under a node (powering it off, cutting its network), which the
 *   Kubernetes API does not offer: the twin's kubelet, k3d's agent containers through Docker;
 * - `chaos-mesh`: Chaos Mesh in the cluster (or the twin, which plays its objects).
 */
export type FaultNeed = 'kubernetes-api' | 'node-access' | 'chaos-mesh';

export const FAULT_NEEDS: Record<FaultName, readonly FaultNeed[]> = {
  killPod: ['kubernetes-api'],
  stopNode: ['node-access'],
  startNode: ['node-access'],
  failZone: ['node-access'],
  restoreZone: ['node-access'],
  partitionNode: ['node-access'],
  cordon: ['kubernetes-api'],
  uncordon: ['kubernetes-api'],
  drain: ['kubernetes-api'],
  evict: ['kubernetes-api'],
  chaos: ['chaos-mesh'],
};

export const FAULT_NAMES = Object.keys(FAULT_NEEDS) as FaultName[];

/** How an environment meets each need (`how`), or why it cannot (`missing`). */
export type FaultSupport = Record<FaultNeed, { how: string } | { missing: string }>;

/** The faults of `faults` the environment cannot inject, each with the need it lacks and why. */
export function unsupportedFaults(
  support: FaultSupport,
  faults: readonly string[],
): { fault: string; need: FaultNeed; why: string }[] {
  const out: { fault: string; need: FaultNeed; why: string }[] = [];
  for (const fault of faults) {
    const needs = FAULT_NEEDS[fault as FaultName];
    if (!needs)
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `faults: "${fault}" is not a fault of the Environment API (faults: ${FAULT_NAMES.join(', ')})`,
      );
    for (const need of needs) {
      const s = support[need];
      if ('missing' in s) out.push({ fault, need, why: s.missing });
    }
  }
  return out;
}

/**
 * Checks, before anything starts, that the environment can inject every fault a scenario declares;
 * throws a TwinError (exit 2) naming each fault, what it needs and why this environment lacks it.
 */
export function assertFaultsSupported(
  environment: { name: string; faultSupport: FaultSupport },
  what: string,
  faults: readonly string[],
): void {
  const missing = unsupportedFaults(environment.faultSupport, faults);
  if (missing.length === 0) return;
  const lines = missing.map((m) => `faults.${m.fault} needs ${m.need}: ${m.why}`);
  throw new TwinError(
    'TWIN_ENV_UNAVAILABLE',
    `${what} cannot run on the ${environment.name} environment: ${[...new Set(lines)].join('; ')}. Run it where nodes can be reached (--env local or --env k3d), or pick a scenario whose faults need only the Kubernetes API`,
  );
}

/** The error a fault that needs what the environment lacks throws if called anyway (undeclared by its scenario). */
export function faultUnsupported(environment: string, fault: FaultName, support: FaultSupport): TwinError {
  const [m] = unsupportedFaults(support, [fault]);
  return new TwinError(
    'TWIN_ENV_UNAVAILABLE',
    `faults.${fault} needs ${m?.need ?? FAULT_NEEDS[fault].join(', ')} on the ${environment} environment: ${m?.why ?? 'not supported'}`,
  );
}
