import { defineProfile } from '../profile.ts';

/**
 * Smoke: a few VUs for a few seconds over every public route of the AI platform (the api's prediction
 * and version endpoints through the Ingress, and the web front end). Proves the system answers before
 * the heavier profiles run. Addressed only to the environment's own loopback Ingress.
 */
export default defineProfile({
  name: 'smoke',
  description: '2 VUs for 5 s over the api and web routes of the Ingress',
  target: { kind: 'Ingress', namespace: 'production', name: 'ai-platform' },
  scenario: { executor: 'constant-vus', vus: 2, duration: '5s', gracefulStop: '5s' },
  requests: [
    { name: 'predict', method: 'GET', path: '/api/v1/predict?sensor=s-1&value=21.5', weight: 3 },
    { name: 'version', method: 'GET', path: '/api/v1/version', weight: 1 },
    { name: 'web', method: 'GET', path: '/', weight: 1 },
  ],
  tags: { profile: 'smoke' },
  timeout: '10s',
  sleep: 0.05,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<1000'],
    iterations: ['count>20'],
  },
});
