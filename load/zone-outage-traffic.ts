/**
 * Steady client traffic for the zone and node failure scenarios: a constant arrival rate through the
 * AI platform's Ingress, over the api (prediction, which also calls the inference service, and
 * version) and the web front end. Addressed only to the environment's own loopback Ingress.
 */
export const zoneOutageTraffic = {
  rate: 120,
  paths: [
    '/api/v1/predict?sensor=s-1&value=21.5',
    '/api/v1/version',
    '/',
    '/api/v1/predict?sensor=s-2&value=48.0',
  ],
  versionHeader: 'x-app-version',
};
