import { defineProfile } from '../profile.ts';

/**
 * Spike: the api's arrival rate jumps from 20 to 200 req/s in 3 s, holds for 10 s and falls back.
 * The system must keep answering (errors < 1 %) with p95 < 1 s during the spike; dropped_iterations
 * shows whether the client could keep the rate (maxVUs).
 */
export default defineProfile({
  name: 'spike',
  description: '20 → 200 → 20 req/s on the api through the Ingress over 21 s',
  target: { kind: 'Ingress', namespace: 'production', name: 'ai-platform' },
  scenario: {
    executor: 'ramping-arrival-rate',
    startRate: 20,
    timeUnit: '1s',
    preAllocatedVUs: 50,
    maxVUs: 300,
    stages: [
      { duration: '3s', target: 20 },
      { duration: '3s', target: 200 },
      { duration: '10s', target: 200 },
      { duration: '3s', target: 20 },
      { duration: '2s', target: 20 },
    ],
    gracefulStop: '10s',
  },
  requests: [
    { name: 'predict', method: 'GET', path: '/api/v1/predict?sensor=s-3&value=30.0', weight: 4 },
    { name: 'version', method: 'GET', path: '/api/v1/version', weight: 1 },
  ],
  tags: { profile: 'spike', system: 'ai-platform' },
  timeout: '10s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<1000'],
    dropped_iterations: ['count<100'],
  },
});
