import { TwinError } from '../../core/errors.ts';
import { ResourceRegistry } from '../../kube/api/resource-registry.ts';
import { describeObject, groupOf, type KubeObject, objectKey } from '../../kube/object.ts';
import { type StatusCause, servedVersions, validateObject } from '../../kube/schema/index.ts';
import { addonOfGroup } from '../addons/addon-catalogue.ts';
import { addonLabel, type LoadedAddon } from '../addons/addons-file.ts';
import { addonControllerCauses } from './addon-controller-validation.ts';
import type { RenderedObject } from './rendered-object.ts';
import { SourceLines } from './source-lines.ts';
import { DEFAULT_MAX_REPLICAS, twinLimitCauses } from './twin-limits.ts';

export {
  classifyKinds,
  describeStoredOnly,
  type KindClassification,
  RECONCILED_KINDS,
} from './kind-classification.ts';

/** One thing the API server (or an add-on's controller) would reject: `<file>:<line>: <Kind ns/name>: <field>: <problem>`. */
export interface ManifestProblem {
  source: string;
  line?: number;
  object: string;
  field?: string;
  message: string;
}

export interface ValidationOptions {
  /** The system's add-ons: their CRDs are installed before the manifests are applied. */
  addons?: LoadedAddon[];
  /** The add-on list the hints name (infra/<system>/addons.yaml). */
  addonsFile?: string;
  /** Directory the objects' sources are relative to (for line numbers); default process.cwd(). */
  cwd?: string;
  maxReplicas?: number;
}

export const MAX_REPORTED_PROBLEMS = 10;

/** Namespaces every cluster has (kube-apiserver creates them; NamespaceLifecycle never refuses them). */
export const DEFAULT_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
]);

/** API versions the API server no longer serves, with the version to use instead (a hint to "no matches for kind"). */
const REMOVED_API_VERSIONS: Record<string, string> = {
  'extensions/v1beta1 Deployment': 'apps/v1 (removed in Kubernetes 1.16)',
  'apps/v1beta1 Deployment': 'apps/v1 (removed in Kubernetes 1.16)',
  'apps/v1beta2 Deployment': 'apps/v1 (removed in Kubernetes 1.16)',
  'extensions/v1beta1 DaemonSet': 'apps/v1 (removed in Kubernetes 1.16)',
  'apps/v1beta2 DaemonSet': 'apps/v1 (removed in Kubernetes 1.16)',
  'apps/v1beta1 StatefulSet': 'apps/v1 (removed in Kubernetes 1.16)',
  'apps/v1beta2 StatefulSet': 'apps/v1 (removed in Kubernetes 1.16)',
  'extensions/v1beta1 ReplicaSet': 'apps/v1 (removed in Kubernetes 1.16)',
  'extensions/v1beta1 Ingress': 'networking.k8s.io/v1 (removed in Kubernetes 1.22)',
  'networking.k8s.io/v1beta1 Ingress': 'networking.k8s.io/v1 (removed in Kubernetes 1.22)',
  'batch/v1beta1 CronJob': 'batch/v1 (removed in Kubernetes 1.25)',
  'policy/v1beta1 PodDisruptionBudget': 'policy/v1 (removed in Kubernetes 1.25)',
  'autoscaling/v2beta1 HorizontalPodAutoscaler': 'autoscaling/v2 (removed in Kubernetes 1.25)',
  'autoscaling/v2beta2 HorizontalPodAutoscaler': 'autoscaling/v2 (removed in Kubernetes 1.26)',
};

/**
 * Checks the objects as applying them to a cluster with the system's add-ons would: each through the
 * API server's validation (kube/schema validateObject, strict field validation as kubectl's default),
 * NamespaceLifecycle in the order kubectl applies them, the add-on controllers' own checks and the
 * twin's limits. Throws TWIN_MANIFEST_INVALID listing the first problems. Namespaced objects without
 * a namespace get 'default' (as kubectl apply gives them), in place.
 */
export function validateObjects(rendered: RenderedObject[], options: ValidationOptions = {}): void {
  const problems = manifestProblems(rendered, options);
  if (problems.length === 0) return;
  const lines = problems.slice(0, MAX_REPORTED_PROBLEMS).map(formatProblem);
  if (problems.length > MAX_REPORTED_PROBLEMS) {
    lines.push(`… and ${problems.length - MAX_REPORTED_PROBLEMS} more problems`);
  }
  throw new TwinError('TWIN_MANIFEST_INVALID', lines.join('\n'));
}

export function formatProblem(p: ManifestProblem): string {
  const where = p.line === undefined ? p.source : `${p.source}:${p.line}`;
  const field = p.field ? `${p.field}: ` : '';
  return p.object ? `${where}: ${p.object}: ${field}${p.message}` : `${where}: ${field}${p.message}`;
}

/** The registry of a cluster with these add-ons installed. */
export function registryWith(addons: LoadedAddon[] = []): ResourceRegistry {
  const registry = new ResourceRegistry();
  for (const a of addons) for (const crd of a.crds) registry.addCustomResourceDefinition(crd);
  return registry;
}

/** Every problem of every object, in manifest order (namespaces are defaulted in place first). */
export function manifestProblems(
  rendered: RenderedObject[],
  options: ValidationOptions = {},
): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const lines = new SourceLines(options.cwd ?? process.cwd());
  const registry = registryWith(options.addons);
  const maxReplicas = options.maxReplicas ?? DEFAULT_MAX_REPLICAS;
  // an object's problems in the order of their lines (kustomize sorts the keys it prints)
  const report = (r: RenderedObject, object: string, causes: StatusCause[]) => {
    const found = causes.map((c) => ({ c, line: lines.lineOf(r.source, r.object, c.field) }));
    found.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    for (const { c, line } of found)
      out.push({
        source: r.source,
        ...optionalLine(line),
        object,
        ...(c.field ? { field: c.field } : {}),
        message: c.message,
      });
  };
  // Twin simplification: a CRD of the manifests serves its kinds at once (kubectl needs it Established first).
  const valid: boolean[] = rendered.map(({ object }) => headerProblems(object).length === 0);
  rendered.forEach(({ object }, i) => {
    if (
      valid[i] &&
      object.kind === 'CustomResourceDefinition' &&
      object.apiVersion === 'apiextensions.k8s.io/v1'
    ) {
      const crdCheck = validateObject(object, registry, { fieldValidation: 'Strict' });
      if (crdCheck.causes.length === 0) registry.addCustomResourceDefinition(object);
    }
  });
  const namespaces = new Set(DEFAULT_NAMESPACES);
  for (const { object } of rendered)
    if (
      object?.kind === 'Namespace' &&
      object.apiVersion === 'v1' &&
      typeof object.metadata?.name === 'string'
    )
      namespaces.add(object.metadata.name);
  const seen = new Map<string, string>();
  rendered.forEach((r, i) => {
    const { object, source } = r;
    if (!valid[i]) {
      const o = object as Partial<KubeObject> | undefined;
      const named = typeof o?.kind === 'string' ? `${o.kind} #${i + 1}` : `document #${i + 1}`;
      for (const message of headerProblems(object))
        out.push({ source, ...optionalLine(lines.lineOf(source, object)), object: named, message });
      return;
    }
    const resource = registry.lookupKind(object.apiVersion, object.kind);
    if (resource && !resource.namespaced) delete object.metadata.namespace;
    else if (object.metadata.namespace === undefined || object.metadata.namespace === '')
      object.metadata.namespace = 'default';
    const name = describeObject(object);
    const key = objectKey(object);
    const other = seen.get(key);
    if (other !== undefined)
      out.push({
        source,
        ...optionalLine(lines.lineOf(source, object)),
        object: name,
        message: `is also defined in ${other}`,
      });
    seen.set(key, source);
    if (!resource) {
      report(r, name, [noKindMatchWithHint(object, registry, options)]);
      return;
    }
    const causes = validateObject(object, registry, { fieldValidation: 'Strict' }).causes;
    causes.push(...addonControllerCauses(object), ...twinLimitCauses(object, maxReplicas));
    // NamespaceLifecycle admission: the namespace must exist when the object is created
    if (resource.namespaced && !namespaces.has(object.metadata.namespace!))
      causes.push({
        reason: 'NotFound',
        field: 'metadata.namespace',
        message: `namespaces ${JSON.stringify(object.metadata.namespace)} not found (no manifest creates it; add a Namespace, or use one of ${[...DEFAULT_NAMESPACES].join(', ')})`,
      });
    report(r, name, causes);
  });
  return out;
}

function optionalLine(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}

function headerProblems(obj: any): string[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return ['is not a mapping'];
  const out: string[] = [];
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') out.push('apiVersion: Required value');
  if (typeof obj.kind !== 'string' || obj.kind === '') out.push('kind: Required value');
  if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))
    out.push('metadata: Required value');
  else if (typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
    out.push(
      obj.metadata.name === undefined
        ? 'metadata.name: Required value'
        : `metadata.name: Invalid value: ${JSON.stringify(obj.metadata.name)}: must be a string`,
    );
  }
  return out;
}

/** kubectl's "no matches for kind", with what to do: the version served, the add-on to install. */
function noKindMatchWithHint(
  obj: KubeObject,
  registry: ResourceRegistry,
  options: ValidationOptions,
): StatusCause {
  const versions = servedVersions(registry, obj.apiVersion, obj.kind);
  const base = `no matches for kind ${JSON.stringify(obj.kind)} in version ${JSON.stringify(obj.apiVersion)}`;
  const removed = REMOVED_API_VERSIONS[`${obj.apiVersion} ${obj.kind}`];
  let hint: string;
  if (removed) hint = `; use ${removed}`;
  else if (versions.length > 0) hint = `; ${obj.kind} is served as ${versions.join(', ')}`;
  else {
    const group = groupOf(obj.apiVersion);
    const addon = addonOfGroup(group);
    const installed = options.addons?.find((a) => a.entry.groups.includes(group));
    const file = options.addonsFile ?? 'the system’s addons.yaml';
    if (installed)
      hint = `; ${addonLabel(installed)} does not define it (its kinds: ${[
        ...new Set(installed.crds.map((c) => String(c.spec?.names?.kind))),
      ].join(', ')})`;
    else if (addon)
      hint = `; ensure CRDs are installed first: ${addon.title} is not an add-on of this system (add it to ${file}; catalogued releases: ${Object.keys(addon.releases).join(', ')})`;
    else hint = '; ensure CRDs are installed first: no installed add-on and no manifest defines this kind';
  }
  return {
    reason: 'NoKindMatch',
    field: versions.length > 0 || removed ? 'apiVersion' : 'kind',
    message: base + hint,
  };
}
