import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '..', '..');
const workflowsDir = path.join(root, '.github', 'workflows');
const files = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

// SchemaStore's github-workflow.json, pinned (test/fixtures/schemastore/README.md says from where).
const schema = JSON.parse(
  readFileSync(path.join(root, 'test', 'fixtures', 'schemastore', 'github-workflow.json'), 'utf8'),
) as Record<string, unknown>;
delete schema['$schema'];
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[]; permissions?: Record<string, string> }>;
}

function load(file: string): Workflow {
  return parse(readFileSync(path.join(workflowsDir, file), 'utf8')) as Workflow;
}
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
const runs = (wf: Workflow) => steps(wf).flatMap((s) => (s.run ? [s.run] : []));

/**
 * The first major of each action whose action.yml declares `runs.using: node24` (GitHub's runners
 * dropped Node 20). An action not listed fails the test: check its action.yml, then add it here.
 */
const NODE24_MAJOR: Record<string, number> = {
  'actions/checkout': 5,
  'actions/setup-node': 5,
  'actions/cache': 5,
  'actions/upload-artifact': 6,
  'actions/download-artifact': 7,
  'hashicorp/setup-terraform': 4,
  'dorny/test-reporter': 3,
};

describe('GitHub workflows', () => {
  it('are ci, nightly-chaos and perf-gate', () => {
    expect(files).toEqual(['ci.yml', 'nightly-chaos.yml', 'perf-gate.yml']);
  });

  it.each(files)('%s validates against the GitHub workflow schema', (file) => {
    const ok = validate(load(file));
    expect(validate.errors ?? [], `${file}: ${JSON.stringify(validate.errors, null, 1)}`).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema rejects what GitHub rejects (a step with both uses and an unknown key, a bad cron)', () => {
    const bad = {
      on: { schedule: [{ cron: 'every night' }] },
      jobs: { a: { 'runs-on': 'ubuntu-latest', steps: [{ uses: 'actions/checkout@v6', colour: 'red' }] } },
    };
    expect(validate(bad)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toContain('/on/schedule/0/cron');
    expect(paths).toContain('/jobs/a/steps/0');
  });

  it.each(files)(
    '%s runs only npm scripts that package.json has and binaries its dependencies install',
    (file) => {
      const text = runs(load(file)).join('\n');
      for (const m of text.matchAll(/\bnpm run ([\w:.-]+)/g))
        expect(pkg.scripts, `npm run ${m[1]}`).toHaveProperty(m[1]!);
      for (const m of text.matchAll(/\bnpm (test|start)\b/g))
        expect(pkg.scripts, `npm ${m[1]}`).toHaveProperty(m[1]!);
      for (const m of text.matchAll(/\bnpx ([\w@/.-]+)/g)) {
        const bin = path.join(root, 'node_modules', '.bin', m[1]!);
        expect(
          existsSync(bin),
          `npx ${m[1]}: no node_modules/.bin/${m[1]} (add the package to package.json)`,
        ).toBe(true);
      }
    },
  );

  it.each(files)('%s uses actions at majors that run on Node 24', (file) => {
    for (const s of steps(load(file))) {
      if (!s.uses || s.uses.startsWith('./')) continue;
      const [name, ref] = s.uses.split('@') as [string, string];
      const min = NODE24_MAJOR[name];
      expect(min, `${s.uses}: not in NODE24_MAJOR; check its action.yml runs.using`).toBeDefined();
      expect(Number(/^v(\d+)/.exec(ref)?.[1]), `${s.uses}: Node 24 from v${min}`).toBeGreaterThanOrEqual(
        min!,
      );
    }
  });

  it('ci runs the same Vitest projects as npm test, and lint and typecheck', () => {
    const wanted = [...pkg.scripts['test']!.matchAll(/--project (\w+)/g)].map((m) => m[1]);
    const ci = runs(load('ci.yml')).join('\n');
    const ran = [...ci.matchAll(/vitest run --project (\w+)/g)].map((m) => m[1]);
    expect(ran).toEqual(wanted);
    expect(ci).toMatch(/--reporter=junit/);
    expect(ci).toContain('npm run lint');
    expect(ci).toContain('npm run typecheck');
    const nodes = JSON.stringify(load('ci.yml').jobs['test']);
    expect(nodes).toContain('24.22.3');
    expect(readFileSync(path.join(root, '.ci', 'run'), 'utf8')).toContain('NODE24_VERSION=24.22.3');
  });

  it('nightly-chaos runs on a schedule and by hand, on the twin and on k3d, and keeps a history', () => {
    const wf = load('nightly-chaos.yml');
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    const twin = runs({ ...wf, jobs: { t: wf.jobs['twin']! } }).join('\n');
    const k3d = runs({ ...wf, jobs: { k: wf.jobs['k3d']! } }).join('\n');
    expect(twin).toMatch(/npm run chaos -- --report-dir/);
    expect(twin).toMatch(/--random --seed "\$SEED"/);
    expect(k3d).toMatch(/npm run chaos -- --env k3d/);
    expect(runs(wf).join('\n')).toMatch(/npm run chaos -- report --history/);
    expect(steps(wf).filter((s) => s.uses?.startsWith('dorny/test-reporter'))).toHaveLength(2);
    expect(wf.jobs['history']!.permissions).toEqual({ contents: 'write' });
  });

  it('perf-gate installs a pinned Terraform and fetches its baseline as an artifact, not from a tag-keyed cache', () => {
    const wf = load('perf-gate.yml');
    const all = steps(wf);
    const tf = all.find((s) => s.uses?.startsWith('hashicorp/setup-terraform'));
    expect(String(tf?.with?.['terraform_version'])).toMatch(/^\d+\.\d+\.\d+$/);
    expect(all.some((s) => s.uses?.startsWith('actions/cache'))).toBe(false);
    const upload = all.find(
      (s) => s.uses?.startsWith('actions/upload-artifact') && s.with?.['retention-days'],
    );
    expect(upload?.with?.['name']).toBe(`\${{ env.BASELINE_ARTIFACT }}`);
    expect(runs(wf).join('\n')).toMatch(/gh run download "\$run_id" .*--name "\$BASELINE_ARTIFACT"/);
  });
});
