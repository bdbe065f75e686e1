import { TwinError } from '../../core/errors.ts';
import { matchesSelector } from '../../kube/labels.ts';
import { describeObject, type KubeObject, objectKey } from '../../kube/object.ts';
import { cronScheduleProblem } from './cron-schedule.ts';
import {
  dns1035LabelProblem,
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  labelValueProblem,
  qualifiedNameProblem,
} from './name-validation.ts';
import { isObject, isPort, podSpecProblems, resourceProblems } from './pod-template-validation.ts';
import type { RenderedObject } from './rendered-object.ts';

export {
  classifyKinds,
  describeStoredOnly,
  type KindClassification,
  RECONCILED_KINDS,
} from './kind-classification.ts';

/** One thing the API server would reject: `<source>: <Kind ns/name>: <field>: <problem>`. */
export interface ManifestProblem {
  source: string;
  object: string;
  message: string;
}

export const MAX_REPORTED_PROBLEMS = 10;

/** Kinds without a namespace; any other kind (CRDs included) is taken as namespaced. */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'PriorityClass',
  'RuntimeClass',
  'CSIDriver',
  'VolumeSnapshotClass',
  'APIService',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ClusterAnalysisTemplate',
  'ClusterIssuer',
  'ClusterSecretStore',
]);

/** API versions the API server no longer serves, with the version to use instead. */
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

const WORKLOAD_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Rollout']);
const CANARY_STEP_KINDS = [
  'setWeight',
  'pause',
  'analysis',
  'experiment',
  'setCanaryScale',
  'setHeaderRoute',
  'setMirrorRoute',
  'plugin',
];

/**
 * Checks the objects as the API server (and the Argo Rollouts controller for Rollouts) would, and
 * throws TWIN_MANIFEST_INVALID listing the first problems. Namespaced objects without a namespace get
 * 'default', as kubectl apply would give them; that is done in place and is not a problem.
 */
export function validateObjects(rendered: RenderedObject[]): void {
  const problems = manifestProblems(rendered);
  if (problems.length === 0) return;
  const lines = problems.slice(0, MAX_REPORTED_PROBLEMS).map(formatProblem);
  if (problems.length > MAX_REPORTED_PROBLEMS) {
    lines.push(`… and ${problems.length - MAX_REPORTED_PROBLEMS} more problems`);
  }
  throw new TwinError('TWIN_MANIFEST_INVALID', lines.join('\n'));
}

export function formatProblem(p: ManifestProblem): string {
  return p.object ? `${p.source}: ${p.object}: ${p.message}` : `${p.source}: ${p.message}`;
}

/** Every problem of every object, in manifest order (namespaces are defaulted in place first). */
export function manifestProblems(rendered: RenderedObject[]): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const seen = new Map<string, string>();
  rendered.forEach(({ object, source }, index) => {
    const header = headerProblems(object);
    if (header.length > 0) {
      const o = object as Partial<KubeObject> | undefined;
      const named = typeof o?.kind === 'string' ? `${o.kind} #${index + 1}` : `document #${index + 1}`;
      for (const message of header) out.push({ source, object: named, message });
      return;
    }
    defaultNamespace(object);
    const name = describeObject(object);
    const key = objectKey(object);
    const other = seen.get(key);
    if (other !== undefined) out.push({ source, object: name, message: `is also defined in ${other}` });
    seen.set(key, source);
    for (const message of objectProblems(object)) out.push({ source, object: name, message });
  });
  return out;
}

function headerProblems(obj: any): string[] {
  if (!isObject(obj)) return ['is not a mapping'];
  const out: string[] = [];
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') out.push('apiVersion is required');
  if (typeof obj.kind !== 'string' || obj.kind === '') out.push('kind is required');
  if (!isObject(obj.metadata)) out.push('metadata is required');
  else if (typeof obj.metadata.name !== 'string' || obj.metadata.name === '') {
    out.push(
      obj.metadata.name === undefined
        ? 'metadata.name is required'
        : `metadata.name: ${JSON.stringify(obj.metadata.name)} must be a string`,
    );
  }
  return out;
}

function defaultNamespace(obj: KubeObject): void {
  if (CLUSTER_SCOPED_KINDS.has(obj.kind)) {
    // the API server ignores a namespace on a cluster-scoped object; drop it so keys agree
    delete obj.metadata.namespace;
  } else if (obj.metadata.namespace === undefined || obj.metadata.namespace === '') {
    obj.metadata.namespace = 'default';
  }
}

function objectProblems(obj: KubeObject): string[] {
  const out: string[] = [];
  const removed = REMOVED_API_VERSIONS[`${obj.apiVersion} ${obj.kind}`];
  if (removed) out.push(`apiVersion ${obj.apiVersion} is no longer served; use ${removed}`);
  out.push(...metadataProblems(obj));
  const spec: any = obj.spec;
  if (WORKLOAD_KINDS.has(obj.kind)) out.push(...workloadProblems(obj));
  switch (obj.kind) {
    case 'Pod':
      out.push(...podSpecProblems(spec, 'spec'));
      break;
    case 'Job':
      out.push(...jobSpecProblems(spec, 'spec'));
      break;
    case 'CronJob': {
      if (!isObject(spec)) return [...out, 'spec is required'];
      const bad = cronScheduleProblem(spec.schedule);
      if (bad) out.push(`spec.schedule: ${bad}`);
      out.push(...jobSpecProblems(spec.jobTemplate?.spec, 'spec.jobTemplate.spec'));
      break;
    }
    case 'Service':
      out.push(...serviceProblems(spec));
      break;
    case 'Ingress':
      out.push(...ingressProblems(spec));
      break;
    case 'HorizontalPodAutoscaler':
      out.push(...hpaProblems(spec));
      break;
    case 'PodDisruptionBudget':
      if (isObject(spec) && spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
        out.push('spec: minAvailable and maxUnavailable cannot be both set');
      }
      break;
  }
  return out;
}

function metadataProblems(obj: KubeObject): string[] {
  const out: string[] = [];
  const { name, namespace } = obj.metadata;
  const nameRule =
    obj.kind === 'Service'
      ? dns1035LabelProblem
      : obj.kind === 'Namespace'
        ? dns1123LabelProblem
        : dns1123SubdomainProblem;
  const badName = nameRule(name);
  if (badName) out.push(`metadata.name: ${badName}`);
  if (namespace !== undefined) {
    const badNs = typeof namespace === 'string' ? dns1123LabelProblem(namespace) : 'must be a string';
    if (badNs) out.push(`metadata.namespace: ${badNs}`);
  }
  out.push(...labelProblems(obj.metadata.labels, 'metadata.labels'));
  out.push(...annotationProblems(obj.metadata.annotations, 'metadata.annotations'));
  return out;
}

function labelProblems(labels: unknown, at: string): string[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return [`${at} must be a mapping of strings`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const badKey = qualifiedNameProblem(k);
    if (badKey) out.push(`${at}: ${badKey}`);
    if (typeof v !== 'string')
      out.push(`${at}.${k}: ${JSON.stringify(v)} is a ${typeof v}; quote it (label values are strings)`);
    else {
      const badValue = labelValueProblem(v);
      if (badValue) out.push(`${at}.${k}: ${badValue}`);
    }
  }
  return out;
}

function annotationProblems(annotations: unknown, at: string): string[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) return [`${at} must be a mapping of strings`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(annotations)) {
    const badKey = qualifiedNameProblem(k);
    if (badKey) out.push(`${at}: ${badKey}`);
    if (typeof v !== 'string') {
      out.push(`${at}.${k}: ${JSON.stringify(v)} is a ${typeof v}; quote it (annotation values are strings)`);
    }
  }
  return out;
}

function workloadProblems(obj: KubeObject): string[] {
  const spec: any = obj.spec;
  if (!isObject(spec)) return ['spec is required'];
  const out: string[] = [];
  if (obj.kind !== 'DaemonSet' && spec.replicas !== undefined && spec.replicas !== null) {
    if (!Number.isInteger(spec.replicas) || spec.replicas < 0) {
      out.push(
        `spec.replicas: ${JSON.stringify(spec.replicas)} must be an integer greater than or equal to 0`,
      );
    }
  }
  // a Rollout may take its pod template from a Deployment instead (spec.workloadRef)
  const usesWorkloadRef = obj.kind === 'Rollout' && isObject(spec.workloadRef);
  const template = spec.template;
  if (spec.selector === undefined || spec.selector === null) {
    if (!usesWorkloadRef) out.push('spec.selector is required');
  } else if (!isObject(spec.selector)) {
    out.push('spec.selector must be a label selector (matchLabels and/or matchExpressions)');
  } else {
    out.push(...selectorProblems(spec.selector, 'spec.selector'));
    const labels = template?.metadata?.labels;
    if (isObject(template) && !matchesSelector(spec.selector, isObject(labels) ? labels : {})) {
      out.push('spec.template.metadata.labels: `selector` does not match template `labels`');
    }
  }
  if (!usesWorkloadRef) {
    if (!isObject(template)) out.push('spec.template is required');
    else {
      out.push(...labelProblems(template.metadata?.labels, 'spec.template.metadata.labels'));
      out.push(...podSpecProblems(template.spec, 'spec.template.spec', { restartPolicies: ['Always'] }));
    }
  }
  if (obj.kind === 'StatefulSet') {
    if (typeof spec.serviceName !== 'string' || spec.serviceName === '')
      out.push('spec.serviceName is required');
    const claims = spec.volumeClaimTemplates;
    if (Array.isArray(claims)) {
      claims.forEach((c: any, i: number) => {
        const at = `spec.volumeClaimTemplates[${i}]`;
        if (typeof c?.metadata?.name !== 'string') out.push(`${at}.metadata.name is required`);
        out.push(...resourceProblems(c?.spec?.resources, `${at}.spec.resources`));
      });
    }
  }
  if (obj.kind === 'Rollout') out.push(...rolloutStrategyProblems(spec.strategy));
  return out;
}

function selectorProblems(selector: Record<string, any>, at: string): string[] {
  const out: string[] = [];
  const matchLabels = selector.matchLabels;
  const expressions = selector.matchExpressions;
  if (
    (!isObject(matchLabels) || Object.keys(matchLabels).length === 0) &&
    (!Array.isArray(expressions) || expressions.length === 0)
  ) {
    return [`${at}: empty selector is invalid (it would select every pod)`];
  }
  out.push(...labelProblems(matchLabels, `${at}.matchLabels`));
  if (Array.isArray(expressions)) {
    expressions.forEach((e: any, i: number) => {
      const eAt = `${at}.matchExpressions[${i}]`;
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e?.operator)) {
        out.push(
          `${eAt}.operator: ${JSON.stringify(e?.operator)} is not one of In, NotIn, Exists, DoesNotExist`,
        );
      } else if (
        (e.operator === 'In' || e.operator === 'NotIn') &&
        !(Array.isArray(e.values) && e.values.length > 0)
      ) {
        out.push(`${eAt}.values: must be non-empty for ${e.operator}`);
      } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && e.values?.length > 0) {
        out.push(`${eAt}.values: must be empty for ${e.operator}`);
      }
    });
  }
  return out;
}

function jobSpecProblems(spec: any, at: string): string[] {
  if (!isObject(spec)) return [`${at} is required`];
  const out: string[] = [];
  for (const field of ['parallelism', 'completions', 'backoffLimit']) {
    const v = spec[field];
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0)) {
      out.push(`${at}.${field}: ${JSON.stringify(v)} must be an integer greater than or equal to 0`);
    }
  }
  if (!isObject(spec.template)) return [...out, `${at}.template is required`];
  out.push(...labelProblems(spec.template.metadata?.labels, `${at}.template.metadata.labels`));
  out.push(
    ...podSpecProblems(spec.template.spec, `${at}.template.spec`, {
      restartPolicies: ['OnFailure', 'Never'],
    }),
  );
  return out;
}

function serviceProblems(spec: any): string[] {
  if (!isObject(spec)) return ['spec is required'];
  const out: string[] = [];
  const type = spec.type ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) {
    out.push(
      `spec.type: ${JSON.stringify(type)} is not one of ClusterIP, NodePort, LoadBalancer, ExternalName`,
    );
  }
  if (type === 'ExternalName' && (typeof spec.externalName !== 'string' || spec.externalName === '')) {
    out.push('spec.externalName is required for type ExternalName');
  }
  const ports = spec.ports;
  const headless = spec.clusterIP === 'None';
  if (ports === undefined || ports === null || (Array.isArray(ports) && ports.length === 0)) {
    if (type !== 'ExternalName' && !headless) out.push('spec.ports: at least one port is required');
    return out;
  }
  if (!Array.isArray(ports)) return [...out, 'spec.ports must be a list'];
  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const at = `spec.ports[${i}]`;
    if (!isObject(p)) {
      out.push(`${at} must be a mapping`);
      return;
    }
    if (p.port === undefined) out.push(`${at}.port is required`);
    else if (!isPort(p.port))
      out.push(`${at}.port: ${JSON.stringify(p.port)} must be an integer from 1 to 65535`);
    if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) {
      out.push(`${at}.protocol: ${JSON.stringify(p.protocol)} is not one of TCP, UDP, SCTP`);
    }
    if (p.targetPort !== undefined && !isPort(p.targetPort) && !isPortName(p.targetPort)) {
      out.push(
        `${at}.targetPort: ${JSON.stringify(p.targetPort)} must be a port number (1-65535) or a container port name`,
      );
    }
    if (ports.length > 1) {
      if (typeof p.name !== 'string' || p.name === '')
        out.push(`${at}.name is required when a Service has several ports`);
      else if (names.has(p.name)) out.push(`${at}.name: ${JSON.stringify(p.name)} is used by another port`);
      else names.add(p.name);
    }
  });
  return out;
}

/** IANA service names, as container port names are written. */
function isPortName(v: unknown): boolean {
  return (
    typeof v === 'string' &&
    v.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v) &&
    /[a-z]/.test(v) &&
    !v.includes('--')
  );
}

function ingressProblems(spec: any): string[] {
  if (!isObject(spec)) return ['spec is required'];
  const out: string[] = [];
  const rules = spec.rules;
  if (spec.defaultBackend === undefined && (!Array.isArray(rules) || rules.length === 0)) {
    return ['spec: either `defaultBackend` or `rules` must be specified'];
  }
  if (spec.defaultBackend !== undefined)
    out.push(...backendProblems(spec.defaultBackend, 'spec.defaultBackend'));
  (Array.isArray(rules) ? rules : []).forEach((rule: any, i: number) => {
    const at = `spec.rules[${i}]`;
    if (!isObject(rule)) {
      out.push(`${at} must be a mapping`);
      return;
    }
    if (rule.http === undefined) return;
    const paths = rule.http?.paths;
    if (!Array.isArray(paths) || paths.length === 0) {
      out.push(`${at}.http.paths: at least one path is required`);
      return;
    }
    paths.forEach((p: any, j: number) => {
      const pAt = `${at}.http.paths[${j}]`;
      if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p?.pathType)) {
        out.push(
          `${pAt}.pathType: ${p?.pathType === undefined ? 'is required' : JSON.stringify(p.pathType)} (one of Exact, Prefix, ImplementationSpecific)`,
        );
      }
      if (p?.path !== undefined && (typeof p.path !== 'string' || !p.path.startsWith('/'))) {
        out.push(`${pAt}.path: ${JSON.stringify(p.path)} must be an absolute path`);
      }
      out.push(...backendProblems(p?.backend, `${pAt}.backend`));
    });
  });
  return out;
}

function backendProblems(backend: any, at: string): string[] {
  if (!isObject(backend)) return [`${at} is required (a service backend: service.name and service.port)`];
  if (isObject(backend.resource)) return [];
  const svc = backend.service;
  if (!isObject(svc)) return [`${at}.service is required (service.name and service.port)`];
  const out: string[] = [];
  if (typeof svc.name !== 'string' || svc.name === '') out.push(`${at}.service.name is required`);
  const port = svc.port;
  if (!isObject(port) || (port.number === undefined && port.name === undefined)) {
    out.push(`${at}.service.port: port.number or port.name is required`);
  } else if (port.number !== undefined && !isPort(port.number)) {
    out.push(`${at}.service.port.number: ${JSON.stringify(port.number)} must be an integer from 1 to 65535`);
  }
  return out;
}

function hpaProblems(spec: any): string[] {
  if (!isObject(spec)) return ['spec is required'];
  const out: string[] = [];
  const ref = spec.scaleTargetRef;
  if (!isObject(ref)) out.push('spec.scaleTargetRef is required');
  else {
    if (typeof ref.kind !== 'string' || ref.kind === '') out.push('spec.scaleTargetRef.kind is required');
    if (typeof ref.name !== 'string' || ref.name === '') out.push('spec.scaleTargetRef.name is required');
  }
  const max = spec.maxReplicas;
  if (!Number.isInteger(max) || max < 1)
    out.push(`spec.maxReplicas: ${JSON.stringify(max)} must be an integer of at least 1`);
  const min = spec.minReplicas;
  if (min !== undefined && (!Number.isInteger(min) || min < 1)) {
    out.push(`spec.minReplicas: ${JSON.stringify(min)} must be an integer of at least 1`);
  } else if (min !== undefined && Number.isInteger(max) && min > max) {
    out.push(`spec.minReplicas: ${min} must be less than or equal to maxReplicas (${max})`);
  }
  return out;
}

function rolloutStrategyProblems(strategy: any): string[] {
  if (!isObject(strategy) || (strategy.canary === undefined && strategy.blueGreen === undefined)) {
    return ['spec.strategy: canary or blueGreen is required'];
  }
  if (strategy.canary !== undefined && strategy.blueGreen !== undefined) {
    return ['spec.strategy: canary and blueGreen cannot be both set'];
  }
  const out: string[] = [];
  if (isObject(strategy.blueGreen) && typeof strategy.blueGreen.activeService !== 'string') {
    out.push('spec.strategy.blueGreen.activeService is required');
  }
  const steps = strategy.canary?.steps;
  if (steps === undefined || steps === null) return out;
  if (!Array.isArray(steps)) return [...out, 'spec.strategy.canary.steps must be a list'];
  steps.forEach((step: any, i: number) => {
    const at = `spec.strategy.canary.steps[${i}]`;
    const keys = isObject(step) ? Object.keys(step) : [];
    const unknown = keys.filter((k) => !CANARY_STEP_KINDS.includes(k));
    if (unknown.length > 0) {
      out.push(
        `${at}: unknown step ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${CANARY_STEP_KINDS.join(', ')})`,
      );
    } else if (keys.length !== 1) {
      out.push(`${at}: a step must have exactly one of ${CANARY_STEP_KINDS.join(', ')}`);
    }
    if (
      step?.setWeight !== undefined &&
      (!Number.isInteger(step.setWeight) || step.setWeight < 0 || step.setWeight > 100)
    ) {
      out.push(`${at}.setWeight: ${JSON.stringify(step.setWeight)} must be an integer from 0 to 100`);
    }
    const duration = step?.pause?.duration;
    if (duration !== undefined && !isRolloutDuration(duration)) {
      out.push(
        `${at}.pause.duration: ${JSON.stringify(duration)} must be seconds or a duration such as "30s", "10m", "1h"`,
      );
    }
    if (step?.analysis !== undefined && !Array.isArray(step.analysis?.templates)) {
      out.push(`${at}.analysis.templates is required`);
    }
  });
  return out;
}

function isRolloutDuration(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0;
  return typeof v === 'string' && /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h)?)+$/.test(v);
}
