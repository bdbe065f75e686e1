import { TwinError } from '../../core/errors.ts';
import type { EnvironmentBackend } from '../environment.ts';

/** The full-fidelity environment (k3d + LocalStack + testcontainers) is built in its own issue. */
export const k3dEnvironment: EnvironmentBackend = {
  name: 'k3d',
  async preflight() {
    throw new TwinError(
      'TWIN_ENV_UNAVAILABLE',
      '--env k3d: the k3d environment is not available yet in this version (it needs Docker, k3d and kubectl and is being built); run with --env local, the embedded twin',
    );
  },
  async up() {
    await this.preflight();
    throw new Error('unreachable');
  },
};
