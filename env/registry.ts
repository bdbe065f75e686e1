import { TwinError } from '../core/errors.ts';
import { clusterEnvironment } from './cluster/cluster-backend.ts';
import type { Environment, EnvironmentBackend, EnvironmentOptions } from './environment.ts';
import { ENVIRONMENT_NAMES } from './environment-names.ts';
import { k3dEnvironment } from './k3d/k3d-environment.ts';
import { localEnvironment } from './local/local-environment.ts';

/** Environments by name; adding one adds a folder and a line here. */
const BACKENDS: Record<string, EnvironmentBackend> = {
  local: localEnvironment,
  k3d: k3dEnvironment,
  cluster: clusterEnvironment,
};

export { ENVIRONMENT_NAMES };

export function environmentBackend(name: string): EnvironmentBackend {
  const backend = BACKENDS[name];
  if (!backend) {
    throw new TwinError(
      'TWIN_ENV_UNKNOWN',
      `--env: unknown environment "${name}" (known: ${ENVIRONMENT_NAMES.join(', ')})`,
    );
  }
  return backend;
}

export function upEnvironment(name: string, options: EnvironmentOptions): Promise<Environment> {
  return environmentBackend(name).up(options);
}
