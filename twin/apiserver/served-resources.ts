import { apiVersionOf, ResourceRegistry, type ServedResource } from '../../kube/api/resource-registry.ts';
import { groupOf, type KubeObject, typeKey } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';

const CRD_TYPE = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' };

/**
 * The resources the API server serves: the built-ins and those of every CustomResourceDefinition in
 * the store, kept current by a watch (a CRD created through the API is served at once).
 *
 * Twin simplification: a custom kind stored without a CRD (objects the twin applied from manifests
 * of an add-on whose CRDs it does not install) is served too, schemaless, as `<lowercase kind>s`
 * with a status subresource, so that clients can read what the twin runs. A real API server rejects
 * such objects; once every add-on's CRDs are installed nothing is served this way. A kind whose
 * objects have spec.replicas also gets a scale subresource (.spec.replicas, .status.replicas,
 * .status.selector), as Argo Rollouts' CRD declares one.
 */
export class ServedResources {
  readonly registry = new ResourceRegistry();
  /** Resources served for stored kinds without a CRD, by type key. */
  private readonly implied = new Map<string, KubeObject>();
  private unwatch: Array<() => void> = [];
  private version = 0;

  constructor(private readonly store: ObjectStore) {}

  start(): void {
    for (const crd of this.store.list(CRD_TYPE)) this.registry.addCustomResourceDefinition(crd);
    this.unwatch.push(
      this.store.watch(CRD_TYPE, (e) => {
        // A real CRD replaces what was implied for its kind.
        const group = e.object.spec?.group;
        const kind = e.object.spec?.names?.kind;
        for (const [key, crd] of this.implied)
          if (
            crd.metadata.name === e.object.metadata.name ||
            (crd.spec.group === group && crd.spec.names.kind === kind)
          ) {
            this.implied.delete(key);
            this.registry.removeCustomResourceDefinition(crd.metadata.name);
          }
        if (e.type === 'DELETED') this.registry.removeCustomResourceDefinition(e.object.metadata.name);
        else this.registry.addCustomResourceDefinition(e.object);
      }),
      this.store.watch({}, (e) => {
        if (e.type === 'ADDED') this.imply(e.object);
      }),
      this.registry.onChange(() => this.version++),
    );
    for (const key of this.store.types()) {
      const first = this.store.listShared(key)[0];
      if (first) this.imply(first);
    }
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  /** Bumped on every change of what is served (discovery and OpenAPI documents are rebuilt then). */
  get generation(): number {
    return this.version;
  }

  private imply(obj: KubeObject): void {
    const key = typeKey(obj);
    if (this.implied.has(key)) return;
    const group = groupOf(obj.apiVersion);
    if (!group.includes('.') || group.endsWith('.k8s.io')) return;
    if (this.registry.versionsOfKind(group, obj.kind).length > 0) return;
    const plural = pluralOf(obj.kind);
    const version = obj.apiVersion.slice(group.length + 1);
    const crd: KubeObject = {
      apiVersion: CRD_TYPE.apiVersion,
      kind: CRD_TYPE.kind,
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        names: { kind: obj.kind, plural, singular: obj.kind.toLowerCase(), listKind: `${obj.kind}List` },
        scope: obj.metadata.namespace ? 'Namespaced' : 'Cluster',
        versions: [
          {
            name: version,
            served: true,
            storage: true,
            subresources: {
              status: {},
              // A kind with spec.replicas (a Rollout) gets the scale subresource its CRD would declare.
              ...(typeof obj.spec?.replicas === 'number'
                ? {
                    scale: {
                      specReplicasPath: '.spec.replicas',
                      statusReplicasPath: '.status.replicas',
                      labelSelectorPath: '.status.selector',
                    },
                  }
                : {}),
            },
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    };
    this.implied.set(key, crd);
    this.registry.addCustomResourceDefinition(crd);
  }

  /** Whether a served resource is one of the implied ones (no CRD in the store). */
  isImplied(r: ServedResource): boolean {
    return [...this.implied.values()].some((c) => c.metadata.name === r.custom?.crdName);
  }

  lookup(group: string, version: string, resource: string): ServedResource | undefined {
    return this.registry.lookupResource(group, version, resource);
  }

  all(): ServedResource[] {
    return this.registry.all();
  }
}

/** English plural of a kind as CRDs name them ("Rollout" → "rollouts", "Policy" → "policies"). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(k)) return `${k}es`;
  return `${k}s`;
}

export { apiVersionOf };
