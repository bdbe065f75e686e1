import type { ConformanceCase } from '../conformance-case.ts';
import { affinityAndSpreadCases } from './affinity-and-spread.ts';
import { autoscalingCases } from './autoscaling.ts';
import { cronJobCases } from './cron-jobs.ts';
import { daemonSetCases } from './daemon-sets.ts';
import { deploymentCases } from './deployments.ts';
import { disruptionCases } from './disruptions.ts';
import { jobCases } from './jobs.ts';
import { networkPolicyCases } from './network-policies.ts';
import { nodeLifecycleCases } from './node-lifecycle.ts';
import { rolloutCases } from './rollouts.ts';
import { schedulingCases } from './scheduling.ts';
import { serviceCases } from './services.ts';
import { statefulSetCases } from './stateful-sets.ts';
import { taintCases } from './taints.ts';

/** Every case of the suite; each environment's entry runs all of them. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  ...schedulingCases,
  ...taintCases,
  ...affinityAndSpreadCases,
  ...deploymentCases,
  ...statefulSetCases,
  ...daemonSetCases,
  ...disruptionCases,
  ...autoscalingCases,
  ...nodeLifecycleCases,
  ...jobCases,
  ...cronJobCases,
  ...serviceCases,
  ...rolloutCases,
  ...networkPolicyCases,
];
