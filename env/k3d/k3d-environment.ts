import { TwinError } from '../../core/errors.ts';
import type { Environment, EnvironmentBackend, EnvironmentOptions } from '../environment.ts';
import { k3dDryRun, missingTools } from './k3d-run-plan.ts';

/**
 * The full-fidelity environment: the system on a k3d (k3s in Docker) cluster. This module stays light
 * (the CLI loads it for every command); the Kubernetes client loads only when a cluster comes up.
 */
export const k3dEnvironment: EnvironmentBackend & {
  dryRun(options: { system: string; overlay?: string; gpu?: 'emulated' | 'passthrough' }): Promise<string>;
} = {
  name: 'k3d',
  faultSupport: {
    'kubernetes-api': { how: "the k3d cluster's API server" },
    'node-access': {
      how: 'Docker: k3d node stop/start and docker network disconnect of the agent containers',
    },
    'chaos-mesh': { how: "Chaos Mesh, when the system's addons.yaml lists it" },
  },
  async preflight() {
    const missing = await missingTools();
    if (missing.length > 0)
      throw new TwinError(
        'TWIN_ENV_UNAVAILABLE',
        `--env k3d needs ${missing.join(' and ')}; install them, or run with --env local (the embedded twin); \`--dry-run\` shows what k3d would run without them`,
      );
  },
  dryRun: (options) => k3dDryRun(options),
  async up(options: EnvironmentOptions): Promise<Environment> {
    const profile = options.profile ?? process.env['TWIN_PROFILE'];
    if (profile !== undefined && profile !== 'k3s')
      throw new TwinError(
        'TWIN_OPTION_INVALID',
        `--profile ${profile}: the k3d environment is a k3s cluster; leave out --profile or use --profile k3s (the twin, --env local, can be either)`,
      );
    await this.preflight();
    return (await import('./k3d-live.ts')).upK3d(options);
  },
};
