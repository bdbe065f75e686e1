import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Docs must not name files that do not exist: every path in backticks in README.md and docs/*.md
 * that starts at a top-level folder of the repository (`twin/kubelet/probe.ts`, `infra/…`) must
 * exist, and a bare file name (`probe.ts`) must be the name of a file somewhere in the repository.
 * Placeholders (`<system>`, `*`, `{a,b}`, `$VAR`) and what runs create (GENERATED) are not checked.
 */
const root = path.resolve(import.meta.dirname, '..');
const TOP = new Set(
  readdirSync(root, { withFileTypes: true })
    .map((e) => e.name)
    .filter((n) => !['node_modules', 'reports', '.twin', '.git'].includes(n)),
);
const FILE = /\.(ts|mjs|js|md|ya?ml|json|tf|tfvars\.json|sh|txt|html|xml)$/;
/** Names that runs create (not in the repository), as the docs describe what a run writes. */
const GENERATED = new Set([
  'result.json',
  'junit.xml',
  'report.html',
  'gate.json',
  'summary.md',
  'state.json',
  'control-plane.log',
  'cluster-dns.json',
  'k3d-config.yaml',
  'kubeconfig',
  'apply.log',
  'terraform.tfstate',
  'terraform.rc',
  'postgresql.auto.conf',
  'pg_hba.conf',
  'postgres.log',
  'journal.json', // a chaos experiment's or randomized run's journal (docs/chaos.md)
  'trends.html', // npm run chaos -- report (docs/chaos.md)
  'trends.json',
]);

/** Files outside the repository that a doc names on purpose, with where they are. */
const ELSEWHERE = new Set([
  'entrypoint.sh', // the quay.io/opstree/redis image's own script (docs/data-services.md)
  'prometheus.yml', // a key of the production Prometheus ConfigMap (docs/prometheus.md)
  'sentinel-start.sh', // keys of lambda-microservice's ConfigMap redis-scripts (docs/data-services.md)
  'redis-start.sh',
  'test/e2e/cases.go', // kwok's repository, the model of test/conformance (docs/conformance.md)
  'twin.yaml', // the project file at the root of a team's repository (system/project.ts PROJECT_FILE; docs/own-system.md)
]);

const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const basenames = new Set(tracked.map((f) => path.basename(f)));

function namedFiles(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const token = m[1]!.trim().replace(/[.,:;)]+$/, '');
    if (/[\s<>*{}$|=]/.test(token) || token.startsWith('http') || token.startsWith('@')) continue;
    const clean = token.replace(/:\d+(:\d+)?$/, '').replace(/\/$/, ''); // file:line, a folder's slash
    if (ELSEWHERE.has(clean)) continue;
    const segments = clean.split('/');
    // A path, not a namespace/name reference (`system/prometheus`): a file name, a folder's slash, or deeper.
    const looksLikePath = FILE.test(clean) || token.endsWith('/') || segments.length >= 3;
    if (clean.includes('/') && TOP.has(segments[0]!) && looksLikePath) out.push(clean);
    else if (!clean.includes('/') && FILE.test(clean) && !GENERATED.has(clean)) out.push(clean);
  }
  return out;
}

const docs = ['README.md', ...readdirSync(path.join(root, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

describe('docs name only files that exist', () => {
  it('finds the paths a doc names, and only those', () => {
    expect(
      namedFiles(
        'See `twin/kubelet/probe.ts:40`, `docs/nope.md`, `twin/nope/`, `probe.ts`, `apps/v1`, `system/prometheus`, `infra/<system>/k8s`, `reports/x`, `k6/http` and `result.json`.',
      ),
    ).toEqual(['twin/kubelet/probe.ts', 'docs/nope.md', 'twin/nope', 'probe.ts']);
  });

  it.each(docs)('%s', (doc) => {
    const missing = namedFiles(readFileSync(path.join(root, doc), 'utf8')).filter((name) =>
      name.includes('/') ? !existsSync(path.join(root, name)) : !basenames.has(name),
    );
    expect(missing, `${doc} names files that do not exist`).toEqual([]);
  });
});
