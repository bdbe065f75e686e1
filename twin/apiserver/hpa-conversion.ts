import type { KubeObject } from '../../kube/object.ts';

/**
 * HorizontalPodAutoscaler between autoscaling/v2 (how the twin stores it) and autoscaling/v1 (CPU
 * utilization only), as the API server converts between the two served versions: v1's
 * targetCPUUtilizationPercentage is v2's Resource cpu metric with an Utilization target; other
 * metrics have no v1 field (kube-apiserver keeps them in an annotation, the twin drops them).
 * See https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v1/
 */
export function hpaToV1(v2: Readonly<KubeObject>): KubeObject {
  const spec = v2.spec ?? {};
  const cpu = (spec.metrics ?? []).find(
    (m: any) =>
      m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization',
  );
  const currentCpu = (v2.status?.currentMetrics ?? []).find(
    (m: any) => m.type === 'Resource' && m.resource?.name === 'cpu',
  );
  const status = v2.status ?? {};
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: v2.metadata,
    spec: {
      scaleTargetRef: spec.scaleTargetRef,
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec.maxReplicas,
      ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}),
    },
    status: {
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
      ...(status.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}),
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...(currentCpu?.resource?.current?.averageUtilization !== undefined
        ? { currentCPUUtilizationPercentage: currentCpu.resource.current.averageUtilization }
        : {}),
    },
  };
}

export function hpaToV2(v1: Readonly<KubeObject>): KubeObject {
  const spec = v1.spec ?? {};
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: v1.metadata,
    spec: {
      scaleTargetRef: spec.scaleTargetRef,
      ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
      maxReplicas: spec.maxReplicas,
      ...(spec.targetCPUUtilizationPercentage !== undefined
        ? {
            metrics: [
              {
                type: 'Resource',
                resource: {
                  name: 'cpu',
                  target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage },
                },
              },
            ],
          }
        : {}),
    },
    ...(v1.status ? { status: v1.status } : {}),
  };
}
