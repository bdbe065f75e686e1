import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTwinError } from '../../core/errors.ts';
import { loadSystem, resolveSystem } from '../../system/system.ts';

const root = path.resolve(import.meta.dirname, '../..');
const hasKustomize = ['kubectl', 'kustomize'].some(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const fixtures = path.join(root, 'test/fixtures/systems');

const ARGO =
  'apiVersion: twin.dev/v1alpha1\nkind: Addons\naddons:\n  - { name: argo-rollouts, version: v1.8.3 }\n';

const deployment = (
  patch: { spec?: string; metadata?: string; template?: string; container?: string } = {},
) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop${patch.metadata ?? ''}
spec:
  replicas: 2${patch.spec ?? ''}
  selector: { matchLabels: { app: cart } }
  template:
    metadata: { labels: { app: cart } }
    spec:${patch.template ?? ''}
      containers:
        - name: cart
          image: example.com/cart:1.0${patch.container ?? ''}
`;

const rollout = (canary: string) => `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: cart, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: cart } }
  template:
    metadata: { labels: { app: cart } }
    spec:
      containers: [{ name: cart, image: example.com/cart:1.0 }]
  strategy:
    canary:${canary}
`;

/**
 * Inputs the twin accepted before issue 10 and a cluster rejects. Each becomes a system of its own
 * (a Namespace `shop` and the object, in app.yaml); `expect` is the line that names file:line, object
 * and field.
 */
const CASES: { name: string; manifest: string; addons?: string; expect: string }[] = [
  {
    name: 'kind: Deploymint',
    manifest: deployment().replace('kind: Deployment', 'kind: Deploymint'),
    expect: 'app.yaml:6: Deploymint shop/cart: kind: no matches for kind "Deploymint" in version "apps/v1"',
  },
  {
    name: 'apiVersion: apps/v9',
    manifest: deployment().replace('apps/v1', 'apps/v9'),
    expect:
      'app.yaml:5: Deployment shop/cart: apiVersion: no matches for kind "Deployment" in version "apps/v9"; Deployment is served as apps/v1',
  },
  {
    name: 'a namespace no manifest creates',
    manifest: deployment().replace('namespace: shop', 'namespace: shipping'),
    expect: 'app.yaml:9: Deployment shipping/cart: metadata.namespace: namespaces "shipping" not found',
  },
  {
    name: 'a 400 KB annotation',
    manifest: deployment({ metadata: `\n  annotations:\n    example.com/blob: "${'x'.repeat(400_000)}"` }),
    expect:
      'app.yaml:10: Deployment shop/cart: metadata.annotations: Too long: must have at most 262144 bytes',
  },
  {
    name: 'strategy.type: YoloUpdate',
    manifest: deployment({ spec: '\n  strategy: { type: YoloUpdate }' }),
    expect:
      'app.yaml:12: Deployment shop/cart: spec.strategy.type: Unsupported value: "YoloUpdate": supported values: "Recreate", "RollingUpdate"',
  },
  {
    name: 'a toleration with operator: Maybe',
    manifest: deployment({ template: '\n      tolerations: [{ key: gpu, operator: Maybe, value: "true" }]' }),
    expect:
      'app.yaml:16: Deployment shop/cart: spec.template.spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"',
  },
  {
    name: 'a PDB with minAvailable: "150%"',
    manifest:
      'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: { name: cart, namespace: shop }\nspec:\n  minAvailable: "150%"\n  selector: { matchLabels: { app: cart } }\n',
    expect:
      'app.yaml:9: PodDisruptionBudget shop/cart: spec.minAvailable: Invalid value: "150%": must not be greater than 100%',
  },
  {
    name: 'an env var without a name',
    manifest: deployment({ container: '\n          env:\n            - value: "1"' }),
    expect: 'app.yaml:20: Deployment shop/cart: spec.template.spec.containers[0].env[0].name: Required value',
  },
  {
    name: 'an AnalysisTemplate metric with interval: abc',
    addons: ARGO,
    manifest:
      'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: { name: health, namespace: shop }\nspec:\n  metrics:\n    - name: errors\n      interval: abc\n      provider: { web: { url: "http://example.com/", jsonPath: "{$.x}" } }\n',
    expect:
      'app.yaml:11: AnalysisTemplate shop/health: spec.metrics[0].interval: Invalid value: "abc": time: invalid duration "abc"',
  },
  {
    name: 'replicas: 999999999',
    manifest: deployment().replace('replicas: 2', 'replicas: 999999999'),
    expect:
      'app.yaml:11: Deployment shop/cart: spec.replicas: Invalid value: 999999999: the twin models at most 5000 replicas per workload (the API allows up to 2147483647); set TWIN_MAX_REPLICAS to raise the bound',
  },
  {
    name: 'a custom resource whose CRD is not installed',
    manifest: rollout('\n      steps: [{ setWeight: 20 }]'),
    expect:
      'app.yaml:6: Rollout shop/cart: kind: no matches for kind "Rollout" in version "argoproj.io/v1alpha1"; ensure CRDs are installed first: Argo Rollouts is not an add-on of this system',
  },
  {
    name: 'a custom resource with a field its CRD does not define',
    addons: ARGO,
    manifest: rollout('\n      stepz: [{ setWeight: 20 }]'),
    expect:
      'app.yaml:17: Rollout shop/cart: spec.strategy.canary.stepz: unknown field "spec.strategy.canary.stepz"',
  },
];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'twin-strict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function systemFor(c: (typeof CASES)[number], i: number): string {
  const dir = path.join(tmp, `case-${i}`);
  const overlay = path.join(dir, 'k8s/overlays/local');
  mkdirSync(overlay, { recursive: true });
  cpSync(path.join(fixtures, 'good/topology.yaml'), path.join(dir, 'topology.yaml'));
  cpSync(path.join(fixtures, 'good/twin-bindings.yaml'), path.join(dir, 'twin-bindings.yaml'));
  if (c.addons) writeFileSync(path.join(dir, 'addons.yaml'), c.addons);
  writeFileSync(
    path.join(overlay, 'kustomization.yaml'),
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [app.yaml]\n',
  );
  writeFileSync(
    path.join(overlay, 'app.yaml'),
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\n${c.manifest}`,
  );
  return dir;
}

async function loadError(dir: string): Promise<string> {
  try {
    await loadSystem(await resolveSystem(dir), 'local');
  } catch (e) {
    expect(isTwinError(e, 'TWIN_MANIFEST_INVALID'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`${dir} loaded`);
}

describe.skipIf(!hasKustomize)('inputs a cluster rejects (needs kubectl or kustomize on the PATH)', () => {
  const dirs = CASES.map(systemFor);

  describe('loadSystem rejects them, naming file:line, object and field', () => {
    it.each(CASES.map((c, i) => [c.name, i] as const))('%s', async (_name, i) => {
      const message = await loadError(dirs[i]!);
      expect(message.split('\n')).toContainEqual(expect.stringContaining(CASES[i]!.expect));
      expect(message.startsWith(path.join(dirs[i]!, 'k8s/overlays/local/'))).toBe(true);
    });
  });

  describe('`twin up` exits 2 with nothing started', () => {
    it.each(CASES.map((c, i) => [c.name, i] as const))(
      '%s',
      (_name, i) => {
        const workDir = path.join(tmp, `work-${i}`);
        const r = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            path.join(root, 'harness/cli/main.ts'),
            'up',
            '--system',
            dirs[i]!,
            '--work-dir',
            workDir,
          ],
          { cwd: root, encoding: 'utf8', env: { ...process.env, TWIN_QUIET: '1' }, timeout: 90_000 },
        );
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toContain(CASES[i]!.expect);
        // nothing started: no environment directory (twin, pods, AWS edge), no state file
        expect(existsSync(workDir) ? readdirSync(workDir) : []).toEqual([]);
      },
      120_000,
    );
  });

  it('the seed’s CNPG Cluster (ToneBridge, seed 002 4.1) is rejected for the fields CloudNativePG does not define', async () => {
    const message = await loadError(path.join(fixtures, 'cnpg-seed-fields'));
    const file = 'test/fixtures/systems/cnpg-seed-fields/k8s/overlays/local/postgres-cluster.yaml';
    expect(message.split('\n').map((l) => l.slice(l.indexOf(file)))).toEqual([
      `${file}:16: Cluster data/postgres-cluster: spec.postgresql.version: unknown field "spec.postgresql.version"`,
      `${file}:27: Cluster data/postgres-cluster: spec.monitoring.enabled: unknown field "spec.monitoring.enabled"`,
      `${file}:29: Cluster data/postgres-cluster: spec.backup.enabled: unknown field "spec.backup.enabled"`,
      `${file}:31: Cluster data/postgres-cluster: spec.backup.s3: unknown field "spec.backup.s3"`,
    ]);
  });
});
