import { defineProfile } from '../profile.ts';

/**
 * Soak: a moderate constant rate held for a long time, looking for slow degradation (leaks, queues).
 * Bounded: 2 minutes by default; TWIN_SOAK_DURATION (a k6 duration, e.g. '30m') makes it longer.
 * Not part of the gate by default (`--profiles smoke,steady,spike,soak` adds it).
 */
export default defineProfile({
  name: 'soak',
  description: '50 req/s on the api through the Ingress for TWIN_SOAK_DURATION (default 2m)',
  target: { kind: 'Ingress', namespace: 'production', name: 'ai-platform' },
  scenario: {
    executor: 'constant-arrival-rate',
    rate: 50,
    timeUnit: '1s',
    duration: process.env['TWIN_SOAK_DURATION'] || '2m',
    preAllocatedVUs: 10,
    maxVUs: 100,
    gracefulStop: '10s',
  },
  requests: [
    { name: 'predict', method: 'GET', path: '/api/v1/predict?sensor=s-4&value=12.5', weight: 4 },
    { name: 'version', method: 'GET', path: '/api/v1/version', weight: 1 },
  ],
  tags: { profile: 'soak', system: 'ai-platform' },
  timeout: '10s',
  thresholds: {
    http_req_failed: ['rate<0.0005'],
    http_req_duration: ['p(95)<500', 'p(99)<1000'],
  },
});
