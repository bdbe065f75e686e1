/** The AI platform's objects the scenarios address (infra/ai-platform/k8s). */

export const INGRESS = { namespace: 'production', name: 'ai-platform' };
export const API = { 'app.kubernetes.io/name': 'api' };
export const WEB = { 'app.kubernetes.io/name': 'web' };

/** The report timeline of the zone and node scenarios: the api and web Services and their pods. */
export const API_AND_WEB_TIMELINE = {
  services: [
    { namespace: 'production', name: 'api-stable' },
    { namespace: 'production', name: 'web' },
  ],
  workloads: [
    { namespace: 'production', name: 'api', selector: API },
    { namespace: 'production', name: 'web', selector: WEB },
  ],
};
