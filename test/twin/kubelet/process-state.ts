export { processRuns as isAlive } from '../../../core/process.ts';
export { until } from '../controllers/harness.ts';
