import type { KubeObject } from '../../kube/object.ts';
import { clusterCapabilities } from '../profiles/cluster-capabilities.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, podTemplates } from './pod-templates.ts';

const API_OF: Record<string, string> = {
  Resource: 'metrics.k8s.io',
  ContainerResource: 'metrics.k8s.io',
  Pods: 'custom.metrics.k8s.io',
  Object: 'custom.metrics.k8s.io',
  External: 'external.metrics.k8s.io',
};

/**
 * HorizontalPodAutoscalers that cannot get their metrics: a Resource metric needs the resource metrics
 * API (metrics.k8s.io: metrics-server, which k3s packages and EKS installs as an add-on), Pods and Object
 * metrics the custom metrics API and External metrics the external metrics API (an adapter such as
 * prometheus-adapter or KEDA); a Utilization target needs a request for that resource in every
 * container. Also a scaleTargetRef that names nothing of the manifests.
 */
export function autoscalerMetricFindings(ctx: CheckContext): Finding[] {
  const served = clusterCapabilities(ctx.profile, ctx.addons).apis;
  const templates = podTemplates(ctx.rendered);
  const out: Finding[] = [];
  for (const r of ctx.rendered) {
    const hpa = r.object;
    if (hpa.apiVersion !== 'autoscaling/v2' || hpa.kind !== 'HorizontalPodAutoscaler') continue;
    const ns = hpa.metadata.namespace ?? 'default';
    const ref = hpa.spec?.scaleTargetRef ?? {};
    const target: KubeObject | undefined = ctx.objects.find(
      (o) =>
        o.kind === ref.kind &&
        (o.metadata.namespace ?? 'default') === ns &&
        o.metadata.name === ref.name &&
        (ref.apiVersion === undefined || o.apiVersion === ref.apiVersion),
    );
    if (!target) {
      out.push(
        objectFinding(ctx, r, {
          severity: 'error',
          check: 'hpa',
          field: 'spec.scaleTargetRef',
          message: `scales ${ref.kind} ${ns}/${ref.name}, which the manifests do not define`,
          cluster: `AbleToScale False (FailedGetScale): the HPA controller was unable to get the target's current scale`,
        }),
      );
      continue;
    }
    const t = templates.find((p) => p.r.object === target);
    (hpa.spec?.metrics ?? []).forEach((m: any, i: number) => {
      const api = API_OF[m?.type];
      if (!api) return;
      const field = `spec.metrics[${i}]`;
      if (!served.has(api)) {
        const what =
          api === 'metrics.k8s.io'
            ? 'the resource metrics API (metrics.k8s.io), which metrics-server serves: add it to addons.yaml'
            : `the ${api.startsWith('custom') ? 'custom' : 'external'} metrics API (${api}), which an adapter serves (prometheus-adapter, KEDA); none is installed`;
        out.push(
          objectFinding(ctx, r, {
            severity: 'error',
            check: 'hpa',
            field,
            message: `a ${m.type} metric needs ${what}; the ${ctx.profile.title} cluster ${ctx.profile.apis.length > 0 ? `serves only ${ctx.profile.apis.join(', ')}` : 'serves no metrics API of its own'}`,
            cluster: `ScalingActive False (FailedGetResourceMetric: unable to get metrics … the server could not find the requested resource (get pods.${api})): the HPA never scales ${ref.kind} ${ref.name}`,
          }),
        );
        return;
      }
      const resource = m?.resource?.name ?? m?.containerResource?.name;
      const utilization = (m?.resource ?? m?.containerResource)?.target?.type === 'Utilization';
      if (!utilization || !t?.spec || (resource !== 'cpu' && resource !== 'memory')) return;
      const missing = containersOf(t)
        .filter(({ init, c }) => !init || c?.restartPolicy === 'Always')
        .filter(({ c }) => m.type === 'Resource' || c?.name === m?.containerResource?.container)
        .filter(
          ({ c }) =>
            c?.resources?.requests?.[resource] === undefined &&
            c?.resources?.limits?.[resource] === undefined,
        )
        .map(({ c }) => c?.name);
      if (missing.length > 0)
        out.push(
          objectFinding(ctx, r, {
            severity: 'error',
            check: 'hpa',
            field,
            message: `a ${resource} Utilization target, but container(s) ${missing.join(', ')} of ${ref.kind} ${ref.name} request no ${resource}`,
            cluster: `ScalingActive False (FailedGetResourceMetric: missing request for ${resource}): the HPA never scales it`,
          }),
        );
    });
  }
  return out;
}
