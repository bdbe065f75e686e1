/**
 * The steady client traffic the canary scenario sends through the AI platform's Ingress: a constant
 * arrival rate over the api's prediction endpoint (which also calls the inference service) and its
 * version endpoint. Addressed only to the environment's own loopback Ingress.
 */
export const steadyCanaryTraffic = {
  rate: 120,
  paths: [
    '/api/v1/predict?sensor=s-1&value=21.5',
    '/api/v1/version',
    '/api/v1/predict?sensor=s-2&value=48.0',
  ],
  versionHeader: 'x-app-version',
};
