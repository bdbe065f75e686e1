import type { Controller } from './controller.ts';
import { CronJobController } from './cron-job.ts';
import { DaemonSetController } from './daemon-set.ts';
import { DeploymentController } from './deployment.ts';
import { EndpointSliceController } from './endpoint-slice.ts';
import { EndpointsController } from './endpoints.ts';
import { JobController } from './job.ts';
import { PodDisruptionBudgetController } from './pod-disruption-budget.ts';
import { ReplicaSetController } from './replica-set.ts';
import { StatefulSetController } from './stateful-set.ts';

export { CronJobController, nextScheduleTime, triggerCronJob } from './cron-job.ts';
export { DaemonSetController, daemonPodTolerations } from './daemon-set.ts';
export { DeploymentController, resolveFenceposts } from './deployment.ts';
export { EndpointSliceController } from './endpoint-slice.ts';
export { EndpointsController, endpointSubsets } from './endpoints.ts';
export { isJobFinished, JobController } from './job.ts';
export { PodDisruptionBudgetController } from './pod-disruption-budget.ts';
export { ReplicaSetController } from './replica-set.ts';
export { StatefulSetController } from './stateful-set.ts';

/** One instance of each built-in workload controller, in the order kube-controller-manager lists them. */
export function builtinControllers(): Controller[] {
  return [
    new EndpointsController(),
    new EndpointSliceController(),
    new ReplicaSetController(),
    new DeploymentController(),
    new DaemonSetController(),
    new JobController(),
    new CronJobController(),
    new StatefulSetController(),
    new PodDisruptionBudgetController(),
  ];
}
