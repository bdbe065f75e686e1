import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../../kube/object.ts';
import { parseConfig, type ScrapeConfig } from '../../../../../twin/prometheus/config/prometheus-config.ts';
import {
  endpointsTargetGroup,
  nodeTargetGroup,
  podTargetGroup,
  serviceTargetGroup,
} from '../../../../../twin/prometheus/discovery/kubernetes/kubernetes-targets.ts';
import type { TargetGroup } from '../../../../../twin/prometheus/discovery/target-group.ts';
import { labelsToRecord } from '../../../../../twin/prometheus/labels.ts';
import { targetsFromGroups } from '../../../../../twin/prometheus/scrape/scrape-target.ts';
import { find, hasKubectl, parseObjects, podTemplateOf, readBase } from '../../../../infra/manifests.ts';

/** A running pod of a workload template, as the kubelet reports it. */
function runningPod(
  template: any,
  name: string,
  ip: string,
  ready = true,
  extraLabels: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'production',
      uid: `uid-${name}`,
      labels: { ...template.metadata.labels, ...extraLabels },
      ...(template.metadata.annotations ? { annotations: template.metadata.annotations } : {}),
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-5d8f', controller: true, uid: 'rs' },
      ],
    },
    spec: { ...template.spec, nodeName: 'node-a' },
    status: {
      phase: 'Running',
      podIP: ip,
      hostIP: '10.0.1.5',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'api', containerID: 'containerd://abc' }],
    },
  };
}

function endpointsFor(svc: KubeObject, pods: KubeObject[]): KubeObject {
  const address = (p: KubeObject) => ({
    ip: p.status.podIP,
    nodeName: p.spec.nodeName,
    targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
  });
  const ready = pods.filter((p) => p.status.conditions[0].status === 'True');
  const notReady = pods.filter((p) => p.status.conditions[0].status !== 'True');
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: svc.metadata.labels },
    subsets: [
      {
        addresses: ready.map(address),
        ...(notReady.length ? { notReadyAddresses: notReady.map(address) } : {}),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  };
}

describe('Kubernetes discovery roles (the documented __meta_kubernetes_* labels)', () => {
  const base = readBase();
  const apiTemplate = podTemplateOf(find(base, 'Rollout', 'production', 'api'))!;
  const canaryPod = runningPod(apiTemplate, 'api-canary-1', '127.10.0.7', true, {
    'rollouts-pod-template-hash': 'c4n',
  });

  it('pod: one target per container port, pod labels and annotations sanitized', () => {
    const pod = {
      ...canaryPod,
      metadata: { ...canaryPod.metadata, annotations: { 'prometheus.io/scrape': 'true' } },
    };
    const g = podTargetGroup(pod);
    expect(g.source).toBe('pod/production/api-canary-1');
    expect(g.labels).toMatchObject({
      __meta_kubernetes_namespace: 'production',
      __meta_kubernetes_pod_name: 'api-canary-1',
      __meta_kubernetes_pod_ip: '127.10.0.7',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_node_name: 'node-a',
      __meta_kubernetes_pod_host_ip: '10.0.1.5',
      __meta_kubernetes_pod_uid: 'uid-api-canary-1',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_controller_name: 'api-5d8f',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'api',
      __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
    });
    expect(g.targets).toEqual([
      {
        __address__: '127.10.0.7:8080',
        __meta_kubernetes_pod_container_name: 'api',
        __meta_kubernetes_pod_container_image: 'ghcr.io/ai-platform/api:1.0.0',
        __meta_kubernetes_pod_container_id: 'containerd://abc',
        __meta_kubernetes_pod_container_init: 'false',
        __meta_kubernetes_pod_container_port_name: 'http',
        __meta_kubernetes_pod_container_port_number: '8080',
        __meta_kubernetes_pod_container_port_protocol: 'TCP',
      },
    ]);
    const pending = { ...pod, status: { phase: 'Pending' } };
    expect(podTargetGroup(pending).targets).toEqual([]);
  });

  it('service: one target per port at the Service DNS name', () => {
    const svc = {
      ...find(base, 'Service', 'production', 'api-canary'),
      spec: { ...find(base, 'Service', 'production', 'api-canary').spec, clusterIP: '127.96.0.9' },
    };
    const g = serviceTargetGroup(svc);
    expect(g.labels).toMatchObject({
      __meta_kubernetes_namespace: 'production',
      __meta_kubernetes_service_name: 'api-canary',
      __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_service_label_app_kubernetes_io_name: 'api',
    });
    expect(g.targets).toEqual([
      {
        __address__: 'api-canary.production.svc:80',
        __meta_kubernetes_service_port_name: 'http',
        __meta_kubernetes_service_port_number: '80',
        __meta_kubernetes_service_port_protocol: 'TCP',
        __meta_kubernetes_service_type: 'ClusterIP',
        __meta_kubernetes_service_cluster_ip: '127.96.0.9',
      },
    ]);
  });

  it('endpoints: ready and not-ready addresses with Service and pod labels; uncovered container ports too', () => {
    const svc = find(base, 'Service', 'production', 'api-canary');
    const notReady = runningPod(apiTemplate, 'api-canary-2', '127.10.0.8', false);
    const withMetrics = {
      ...canaryPod,
      spec: {
        ...canaryPod.spec,
        containers: [
          {
            ...canaryPod.spec.containers[0],
            ports: [...canaryPod.spec.containers[0].ports, { name: 'admin', containerPort: 9000 }],
          },
        ],
      },
    };
    const pods = new Map([withMetrics, notReady].map((p) => [p.metadata.name, p]));
    const g = endpointsTargetGroup(endpointsFor(svc, [withMetrics, notReady]), {
      service: svc,
      pod: (_ns, name) => pods.get(name),
    });
    expect(g.source).toBe('endpoints/production/api-canary');
    expect(g.labels).toMatchObject({
      __meta_kubernetes_endpoints_name: 'api-canary',
      __meta_kubernetes_service_name: 'api-canary',
      __meta_kubernetes_service_annotation_prometheus_io_scrape: 'true',
    });
    expect(
      g.targets.map((t) => [
        t['__address__'],
        t['__meta_kubernetes_endpoint_ready'],
        t['__meta_kubernetes_pod_container_port_name'],
      ]),
    ).toEqual([
      ['127.10.0.7:8080', 'true', 'http'],
      ['127.10.0.8:8080', 'false', 'http'],
      ['127.10.0.7:9000', undefined, 'admin'],
    ]);
    expect(g.targets[0]).toMatchObject({
      __meta_kubernetes_endpoint_port_name: 'http',
      __meta_kubernetes_endpoint_port_protocol: 'TCP',
      __meta_kubernetes_endpoint_node_name: 'node-a',
      __meta_kubernetes_endpoint_address_target_kind: 'Pod',
      __meta_kubernetes_endpoint_address_target_name: 'api-canary-1',
      __meta_kubernetes_pod_name: 'api-canary-1',
      __meta_kubernetes_pod_label_rollouts_pod_template_hash: 'c4n',
    });
  });

  it('node: the first address by type at the kubelet port, instance = node name', () => {
    const g = nodeTargetGroup({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'ip-10-0-1-5', labels: { 'topology.kubernetes.io/zone': 'ap-northeast-1a' } },
      spec: { providerID: 'aws:///ap-northeast-1a/i-1' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'ip-10-0-1-5' },
          { type: 'InternalIP', address: '10.0.1.5' },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
    });
    expect(g.targets).toEqual([
      {
        __address__: '10.0.1.5:10250',
        instance: 'ip-10-0-1-5',
        __meta_kubernetes_node_name: 'ip-10-0-1-5',
        __meta_kubernetes_node_provider_id: 'aws:///ap-northeast-1a/i-1',
        __meta_kubernetes_node_label_topology_kubernetes_io_zone: 'ap-northeast-1a',
        __meta_kubernetes_node_labelpresent_topology_kubernetes_io_zone: 'true',
        __meta_kubernetes_node_address_Hostname: 'ip-10-0-1-5',
        __meta_kubernetes_node_address_InternalIP: '10.0.1.5',
      },
    ]);
  });

  describe('the AI platform production config over its own objects', () => {
    const configOf = (objects: KubeObject[]) =>
      parseConfig((find(objects, 'ConfigMap', 'system', 'prometheus-config') as any).data['prometheus.yml'])
        .scrapeConfigs;
    const groupsFor = (objects: KubeObject[], job: ScrapeConfig): TargetGroup[] => {
      const pods = [
        canaryPod,
        runningPod(apiTemplate, 'api-stable-1', '127.10.0.3', true, { 'rollouts-pod-template-hash': 'st4' }),
      ];
      const role = job.kubernetesSdConfigs[0]!.role;
      if (role === 'pod') return pods.map(podTargetGroup);
      return ['api', 'api-stable', 'api-canary'].map((name) => {
        const svc = find(objects, 'Service', 'production', name);
        const selected = name === 'api' ? pods : pods.filter((p) => p.metadata.name.startsWith(name));
        return endpointsTargetGroup(endpointsFor(svc, selected), {
          service: svc,
          pod: (_ns, n) => pods.find((p) => p.metadata.name === n),
        });
      });
    };
    const scraped = (objects: KubeObject[]) =>
      configOf(objects).flatMap((job) =>
        targetsFromGroups(groupsFor(objects, job), job).active.map((t) => labelsToRecord(t.publicLabels)),
      );

    it('scrapes the canary pod as service="api-canary" (and the stable one as api-stable), not through the root Service', () => {
      expect(scraped(base)).toEqual([
        {
          app: 'api',
          instance: '127.10.0.3:8080',
          job: 'kubernetes-service-endpoints',
          namespace: 'production',
          pod: 'api-stable-1',
          service: 'api-stable',
          version: '1.0.0',
        },
        {
          app: 'api',
          instance: '127.10.0.7:8080',
          job: 'kubernetes-service-endpoints',
          namespace: 'production',
          pod: 'api-canary-1',
          service: 'api-canary',
          version: '1.0.0',
        },
      ]);
    });

    it.skipIf(!hasKubectl())(
      'finds nothing to scrape with the defect fixture (needs kubectl to render it)',
      () => {
        const fixture = fileURLToPath(
          new URL('../../../../fixtures/defects/ai-platform-canary-metrics', import.meta.url),
        );
        const text = execFileSync(
          'kubectl',
          ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', fixture],
          {
            encoding: 'utf8',
            maxBuffer: 32 * 1024 * 1024,
          },
        );
        expect(scraped(parseObjects(text, fixture))).toEqual([]);
      },
    );
  });
});
