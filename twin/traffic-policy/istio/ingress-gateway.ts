import type { KubeObject } from '../../../kube/object.ts';

/** The labels of Istio's default ingress gateway, which Gateways select (`selector: { istio: ingressgateway }`). */
export const INGRESS_GATEWAY_LABELS = { app: 'istio-ingressgateway', istio: 'ingressgateway' };

/**
 * What Istio's default install creates for its ingress gateway: the `istio-system` namespace and the
 * `istio-ingressgateway` Service (ports http2 80 → 8080, https 443 → 8443, status-port 15021).
 * Twin simplification: the gateway's Envoy is the twin's Service proxy running the traffic-policy
 * engine for this Service (no gateway Deployment or pods); Gateways select it by the Service's labels.
 */
export function ingressGatewayObjects(): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'istio-system', labels: { 'kubernetes.io/metadata.name': 'istio-system' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'istio-ingressgateway',
        namespace: 'istio-system',
        labels: { ...INGRESS_GATEWAY_LABELS },
      },
      spec: {
        type: 'ClusterIP',
        ports: [
          { name: 'status-port', port: 15021, protocol: 'TCP', targetPort: 15021 },
          { name: 'http2', port: 80, protocol: 'TCP', targetPort: 8080 },
          { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
        ],
      },
    },
  ];
}
