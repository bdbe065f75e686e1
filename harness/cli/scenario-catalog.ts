import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { loadProject } from '../../system/project.ts';
import { REPO_ROOT } from '../../system/repo-root.ts';

export const SCENARIO_SUFFIX = '.scenario.ts';
export const DEFAULT_SCENARIO = 'canary-rollout';

/** The generic scenarios this package ships: they take their targets from the system named by --system. */
export const GENERIC_SCENARIO_DIR = path.join(REPO_ROOT, 'scenarios', 'generic');

/** Folders of the repository's own scenarios: twin.yaml's `scenarios`, or scenarios/ of this package. */
export function repositoryScenarioDirs(root: string): string[] {
  const project = loadProject(root);
  if (project) return project.scenarioDirs.map((d) => path.resolve(root, d));
  return [path.join(root, 'scenarios')];
}

function scenariosIn(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  for (const f of readdirSync(dir).sort())
    if (f.endsWith(SCENARIO_SUFFIX)) found.set(f.slice(0, -SCENARIO_SUFFIX.length), path.join(dir, f));
  return found;
}

/** The generic scenarios by name. */
export function genericScenarios(): Map<string, string> {
  return scenariosIn(GENERIC_SCENARIO_DIR);
}

/** The repository's own scenarios by name (the first folder that has a name wins). */
export function repositoryScenarios(root: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of repositoryScenarioDirs(root))
    for (const [name, file] of scenariosIn(dir)) if (!found.has(name)) found.set(name, file);
  return found;
}

/** Scenario names: the repository's own and the generic ones. */
export function scenarioNames(root: string): string[] {
  return [...new Set([...repositoryScenarios(root).keys(), ...genericScenarios().keys()])].sort();
}

/**
 * The file of a scenario. With --system a generic scenario of that name wins (it runs on the named
 * system); without, the repository's own does (a seed scenario names its system itself).
 */
export function scenarioFile(root: string, name: string, options: { system?: string } = {}): string {
  const own = repositoryScenarios(root).get(name);
  const generic = genericScenarios().get(name);
  const file = options.system !== undefined ? (generic ?? own) : (own ?? generic);
  if (!file) {
    throw new TwinError(
      'TWIN_SCENARIO_UNKNOWN',
      `unknown scenario "${name}" (no ${name}${SCENARIO_SUFFIX} in ${repositoryScenarioDirs(root)
        .map((d) => path.relative(process.cwd(), d) || '.')
        .join(', ')} or among the generic scenarios); known scenarios: ${scenarioNames(root).join(', ')}`,
    );
  }
  return file;
}

/** Whether a scenario is generic (it needs --system or the project's only system). */
export function isGenericScenario(file: string): boolean {
  return path.dirname(file) === GENERIC_SCENARIO_DIR;
}
