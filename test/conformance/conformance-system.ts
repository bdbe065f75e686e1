import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnvironmentOptions } from '../../env/environment.ts';
import { REPO_ROOT } from '../../system/system.ts';

/** The system the suite runs on: three zones, a tainted pool, a GPU node (topology.yaml there). */
export const CONFORMANCE_SYSTEM = path.join(REPO_ROOT, 'test', 'fixtures', 'systems', 'conformance');
export const CONFORMANCE_OVERLAY = 'local';

/**
 * The options both entries bring their environment up with: the same system and overlay, a work
 * directory of the run's own; on the twin the control-plane time scale (TWIN_TIME_SCALE, default ×100).
 */
export function conformanceEnvironmentOptions(
  environment: 'local' | 'k3d',
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentOptions {
  const options: EnvironmentOptions = {
    system: CONFORMANCE_SYSTEM,
    overlay: CONFORMANCE_OVERLAY,
    workDir: mkdtempSync(path.join(os.tmpdir(), `twin-conformance-${environment}-`)),
  };
  if (environment === 'local') options.timeScale = Number(env['TWIN_TIME_SCALE'] ?? 100);
  return options;
}
