import { groupOf, type KubeObject } from '../../kube/object.ts';
import { ADDON_CATALOGUE } from '../addons/addon-catalogue.ts';

/** addons.yaml for the custom kinds the manifests use: each add-on of the catalogue at its newest release. */
export function inferAddons(
  objects: KubeObject[],
  name: string,
): {
  text: string;
  addons: Array<{ name: string; version: string; kinds: string[] }>;
  unknownKinds: string[];
} {
  const definedHere = new Set(
    objects
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => `${o.spec?.group}/${o.spec?.names?.kind}`),
  );
  const byAddon = new Map<string, Set<string>>();
  const unknown = new Set<string>();
  for (const o of objects) {
    const group = groupOf(o.apiVersion);
    if (!group.includes('.') || group.endsWith('.k8s.io') || definedHere.has(`${group}/${o.kind}`)) continue;
    const addon = ADDON_CATALOGUE.find((a) => a.groups.includes(group));
    if (addon) {
      if (!byAddon.has(addon.name)) byAddon.set(addon.name, new Set());
      byAddon.get(addon.name)!.add(`${group}/${o.kind}`);
    } else unknown.add(`${o.apiVersion} ${o.kind}`);
  }
  const addons = ADDON_CATALOGUE.filter((a) => byAddon.has(a.name)).map((a) => ({
    name: a.name,
    version: Object.keys(a.releases).sort().at(-1)!,
    kinds: [...byAddon.get(a.name)!].sort(),
    title: a.title,
  }));
  const lines = [
    `# The platform add-ons of ${name}'s cluster (docs/kubernetes-api.md, "Add-ons"), pinned to releases of`,
    '# the catalogue: the twin installs their CRDs and runs its controller for those it implements. Written',
    '# by `twin init` from the custom resources the manifests use; pin the release your cluster runs.',
    'apiVersion: twin.dev/v1alpha1',
    'kind: Addons',
    `metadata: { name: ${name} }`,
    addons.length > 0 ? 'addons:' : 'addons: []',
    ...addons.flatMap((a) => [
      `  # ${a.title}: ${a.kinds.join(', ')}`,
      `  - name: ${a.name}`,
      `    version: ${a.version}`,
    ]),
  ];
  return {
    text: `${lines.join('\n')}\n`,
    addons: addons.map(({ title: _t, ...a }) => a),
    unknownKinds: [...unknown].sort(),
  };
}
