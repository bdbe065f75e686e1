/**
 * The steady client traffic the canary scenario sends through the AI platform's Ingress: a constant
 * arrival rate over the api's prediction endpoint (which also calls the inference service) and its
 * version endpoint. Addressed only to the environment's own loopback Ingress. 60 requests/s is what
 * the twin serves on a 2-core machine shared with other work (at 120/s and a load average of 17 a
 * third of the requests queued past the client's 5 s timeout).
 */
export const steadyCanaryTraffic = {
  rate: 40,
  paths: [
    '/api/v1/predict?sensor=s-1&value=21.5',
    '/api/v1/version',
    '/api/v1/predict?sensor=s-2&value=48.0',
  ],
  versionHeader: 'x-app-version',
};
