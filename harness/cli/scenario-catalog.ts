import { readdirSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';

export const SCENARIO_SUFFIX = '.scenario.ts';
export const DEFAULT_SCENARIO = 'canary-rollout';

/** Scenario names: the files scenarios/<name>.scenario.ts. */
export function scenarioNames(root: string): string[] {
  return readdirSync(path.join(root, 'scenarios'))
    .filter((f) => f.endsWith(SCENARIO_SUFFIX))
    .map((f) => f.slice(0, -SCENARIO_SUFFIX.length))
    .sort();
}

export function scenarioFile(root: string, name: string): string {
  const names = scenarioNames(root);
  if (!names.includes(name)) {
    throw new TwinError(
      'TWIN_SCENARIO_UNKNOWN',
      `unknown scenario "${name}" (scenarios/${name}${SCENARIO_SUFFIX} does not exist); known scenarios: ${names.join(', ')}`,
    );
  }
  return path.join(root, 'scenarios', `${name}${SCENARIO_SUFFIX}`);
}
