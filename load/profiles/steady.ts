import { defineProfile } from '../profile.ts';

/**
 * Steady: the AI platform's api at a constant arrival rate, judged against its service levels:
 *  - availability 99.95 % (seed 001, 非機能要件「高可用性: 99.95%以上の可用性」) → http_req_failed rate < 0.0005;
 *  - latency budget p95 < 500 ms: the base's canary analysis (api-analysis-template.yaml, latency-p95
 *    `result[0] < 0.5` s), which implements seed 001's canary monitoring of error rate and latency.
 * A p99 beyond 3 s aborts the run early (abortOnFail), as a broken build should not take the full time.
 */
export default defineProfile({
  name: 'steady',
  description: '100 req/s for 30 s on the api through the Ingress; 99.95 % availability, p95 < 500 ms',
  target: { kind: 'Ingress', namespace: 'production', name: 'ai-platform' },
  scenario: {
    executor: 'constant-arrival-rate',
    rate: 100,
    timeUnit: '1s',
    duration: '30s',
    preAllocatedVUs: 50,
    maxVUs: 200,
    gracefulStop: '10s',
  },
  requests: [
    { name: 'predict', method: 'GET', path: '/api/v1/predict?sensor=s-1&value=21.5', weight: 6 },
    {
      name: 'predict-post',
      method: 'POST',
      path: '/api/v1/predict',
      body: { sensor: 's-2', features: [0.3, 1.2, 48.0] },
      weight: 2,
    },
    { name: 'version', method: 'GET', path: '/api/v1/version', weight: 2 },
  ],
  tags: { profile: 'steady', system: 'ai-platform' },
  timeout: '10s',
  thresholds: {
    http_req_failed: ['rate<0.0005'],
    http_req_duration: ['p(95)<500', { threshold: 'p(99)<3000', abortOnFail: true, delayAbortEval: '10s' }],
    'http_req_duration{name:predict}': ['p(95)<500'],
    dropped_iterations: ['count<30'],
  },
});
