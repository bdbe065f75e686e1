import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResourceRegistry } from '../../../kube/api/resource-registry.ts';
import { validateObject } from '../../../kube/schema/index.ts';
import { ADDON_CATALOGUE, crdDir } from '../../../system/addons/addon-catalogue.ts';
import { readAddonCrds } from '../../../system/addons/addon-crds.ts';
import { catalogueAddon, loadAddons } from '../../../system/addons/addons-file.ts';

const releases = ADDON_CATALOGUE.flatMap((e) => Object.keys(e.releases).map((v) => [e.name, v] as const));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'twin-addons-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the add-on catalogue (system/addons)', () => {
  it.each(releases)(
    '%s %s: CRDs an API server accepts, of the add-on’s groups, naming their release',
    (name, version) => {
      const addon = catalogueAddon(name, version);
      // an add-on without API groups of its own (metrics-server serves an aggregated API) has no CRDs
      expect(addon.crds.length > 0).toBe(addon.entry.groups.length > 0);
      const registry = new ResourceRegistry();
      for (const crd of addon.crds) {
        expect(
          validateObject(crd, registry, { fieldValidation: 'Strict' }).causes,
          crd.metadata.name,
        ).toEqual([]);
        expect(addon.entry.groups).toContain(crd.spec.group);
        expect(crd.metadata.annotations?.['twin.dev/addon']).toBe(`${name} ${version}`);
        expect(JSON.stringify(crd)).not.toMatch(/x-twin-|"\$ref"/);
        registry.addCustomResourceDefinition(crd);
      }
    },
  );

  it('reads a release from its cache as it parsed it', () => {
    const dir = crdDir('argo-rollouts', 'v1.8.3');
    const cache = path.join(tmp, 'cache');
    expect(readAddonCrds(dir, cache)).toEqual(readAddonCrds(dir, cache));
  });

  it('addons.yaml: unknown add-ons, uncatalogued versions and a manifests controller without a CRDs-only install are errors', async () => {
    const file = (body: string) => {
      const f = path.join(tmp, `${Math.random()}.yaml`);
      writeFileSync(f, `apiVersion: twin.dev/v1alpha1\nkind: Addons\naddons:\n${body}`);
      return f;
    };
    await expect(
      loadAddons(file('  - { name: linkerd, version: 2.14.0 }\n'), 'x/addons.yaml'),
    ).rejects.toThrow(
      'x/addons.yaml: addons[0].name: "linkerd" is not in the add-on catalogue (system/addons: argo-rollouts, cloudnative-pg, redis-operator, cert-manager, aws-load-balancer-controller, external-secrets, metrics-server, chaos-mesh, istio)',
    );
    await expect(
      loadAddons(file('  - { name: cloudnative-pg, version: 1.25.1 }\n'), 'x/addons.yaml'),
    ).rejects.toThrow(
      'x/addons.yaml: addons[0].version: CloudNativePG 1.25.1 is not catalogued (catalogued: 1.30.0); add its CRDs under system/addons/cloudnative-pg/1.25.1/',
    );
    await expect(
      loadAddons(
        file('  - { name: argo-rollouts, version: v1.8.3, controller: manifests }\n'),
        'x/addons.yaml',
      ),
    ).rejects.toThrow('controller: Argo Rollouts v1.8.3 has no CRDs-only install in the catalogue');
    await expect(
      loadAddons(file('  - { name: cert-manager, version: v1.15.3, values: { a: b } }\n'), 'x/addons.yaml'),
    ).rejects.toThrow(
      'x/addons.yaml: addons[0].values: only an add-on installed from its Helm chart (controller: addon) takes values; cert-manager v1.15.3 is installed from its release manifest',
    );
    const [alb] = await loadAddons(
      file('  - { name: aws-load-balancer-controller, version: v2.8.2, values: { clusterName: prod } }\n'),
      'x/addons.yaml',
    );
    expect(alb).toMatchObject({ values: { clusterName: 'prod' }, index: 0 });
    await expect(
      loadAddons(file('  - { name: argo-rollouts, version: v1.8.3, extra: 1 }\n'), 'x/addons.yaml'),
    ).rejects.toThrow('x/addons.yaml: addons.0');
    expect(await loadAddons(path.join(tmp, 'missing.yaml'))).toEqual([]);
  });
});
