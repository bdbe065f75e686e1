import { TwinError } from '../../core/errors.ts';
import { ownerReferenceTo } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { mergeArgs, readFieldPath } from './analysis-args.ts';
import { POD_TEMPLATE_HASH_LABEL } from './pod-template-hash.ts';
import {
  type AnalysisArg,
  type AnalysisRun,
  ARGO_API_VERSION,
  type Metric,
  type Rollout,
  type RolloutAnalysis,
} from './types.ts';

export const REVISION_ANNOTATION = 'rollout.argoproj.io/revision';

export interface AnalysisRunOrigin {
  name: string;
  type: 'Step' | 'Background';
  podHash: string;
  revision: number;
  stepIndex?: number;
}

/**
 * An AnalysisRun for a Rollout's step or background analysis: the metrics of its AnalysisTemplates
 * and ClusterAnalysisTemplates, with the template args merged with those the Rollout passes and
 * resolved (value, valueFrom.podTemplateHashValue, valueFrom.fieldRef, valueFrom.secretKeyRef).
 */
export function newAnalysisRun(
  store: ObjectStore,
  ro: Rollout,
  analysis: RolloutAnalysis,
  origin: AnalysisRunOrigin,
): AnalysisRun {
  const namespace = ro.metadata.namespace ?? 'default';
  const metrics: Metric[] = [];
  let templateArgs: AnalysisArg[] = [];
  for (const ref of analysis.templates ?? []) {
    const kind = ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
    const template = store.get({
      apiVersion: ARGO_API_VERSION,
      kind,
      name: ref.templateName,
      ...(ref.clusterScope ? {} : { namespace }),
    });
    if (!template) {
      throw new TwinError(
        'TWIN_NOT_FOUND',
        `${kind} "${ref.templateName}" not found${ref.clusterScope ? '' : ` in namespace ${namespace}`}`,
      );
    }
    for (const m of (template.spec?.metrics ?? []) as Metric[]) {
      if (metrics.some((x) => x.name === m.name))
        throw new TwinError('TWIN_INVALID', `two metrics have the same name "${m.name}"`);
      metrics.push(structuredClone(m));
    }
    for (const a of (template.spec?.args ?? []) as AnalysisArg[]) {
      const existing = templateArgs.find((x) => x.name === a.name);
      if (!existing) templateArgs.push({ ...a });
      else if (existing.value === undefined) Object.assign(existing, a);
    }
  }
  templateArgs = templateArgs.map((a) => resolveArg(store, namespace, ro, a));
  const incoming = (analysis.args ?? []).map((a) => resolveArg(store, namespace, ro, a));
  const args = mergeArgs(incoming, templateArgs);
  const labels: Record<string, string> = {
    [POD_TEMPLATE_HASH_LABEL]: origin.podHash,
    'rollout-type': origin.type,
    ...(origin.stepIndex !== undefined ? { 'step-index': String(origin.stepIndex) } : {}),
  };
  return {
    apiVersion: ARGO_API_VERSION,
    kind: 'AnalysisRun',
    metadata: {
      name: origin.name,
      namespace,
      labels,
      annotations: { [REVISION_ANNOTATION]: String(origin.revision) },
      ownerReferences: [ownerReferenceTo(ro)],
    },
    spec: { metrics, args },
  };
}

function resolveArg(store: ObjectStore, namespace: string, ro: Rollout, arg: AnalysisArg): AnalysisArg {
  if (arg.value !== undefined || !arg.valueFrom) return arg;
  const from = arg.valueFrom;
  let value: string | undefined;
  if (from.podTemplateHashValue === 'Stable') value = ro.status?.stableRS;
  else if (from.podTemplateHashValue === 'Latest') value = ro.status?.currentPodHash;
  else if (from.fieldRef) value = readFieldPath(ro, from.fieldRef.fieldPath);
  else if (from.secretKeyRef) {
    const secret = store.get({ kind: 'Secret', namespace, name: from.secretKeyRef.name });
    const data = (secret?.['data'] as Record<string, string> | undefined)?.[from.secretKeyRef.key];
    const plain = (secret?.['stringData'] as Record<string, string> | undefined)?.[from.secretKeyRef.key];
    value = data !== undefined ? Buffer.from(data, 'base64').toString('utf8') : plain;
  }
  return value === undefined ? { name: arg.name } : { name: arg.name, value };
}
