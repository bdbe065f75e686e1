import type { KubeObject } from '../../../kube/object.ts';
import { ageOf } from './human-duration.ts';

/** A column of a Table (meta.k8s.io/v1 TableColumnDefinition). Priority 1 columns show with `-o wide`. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface Printer {
  columns: TableColumn[];
  cells(obj: any, now: number): unknown[];
  /** Row conditions (a finished pod's row says Completed). */
  conditions?(obj: any): { type: string; status: string }[] | undefined;
}

const col = (
  name: string,
  description: string,
  priority = 0,
  type: TableColumn['type'] = 'string',
  format = '',
): TableColumn => ({ name, type, format, description, priority });
const NAME = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE = col(
  'Age',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);
const CONTAINERS = col('Containers', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'Images referenced by each container in the template.', 1);
const SELECTOR = col('Selector', 'Label selector for pods.', 1);
const none = (v: unknown) => (v === undefined || v === null || v === '' ? '<none>' : String(v));

function containersOf(template: any): [string, string] {
  const cs: any[] = template?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

/** metav1.FormatLabelSelector: "a=b,c in (d)", "<none>" for an empty selector. */
export function formatLabelSelector(sel: any): string {
  if (!sel) return '<none>';
  const parts: string[] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of sel.matchExpressions ?? []) {
    const values = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${values})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${values})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

function mapSelector(sel: Record<string, string> | undefined): string {
  const parts = Object.entries(sel ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? '<none>' : parts.sort().join(',');
}

function podStatus(pod: any, now: number): { ready: string; reason: string; restarts: string } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableRestart = 0;
  const phase = status.phase ?? '';
  let reason: string = status.reason || phase;
  for (const c of status.conditions ?? [])
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const initSpecs = new Map<string, any>((spec.initContainers ?? []).map((c: any) => [c.name, c]));
  const restartable = (c: any) => c?.restartPolicy === 'Always';
  for (const c of spec.initContainers ?? []) if (restartable(c)) totalContainers++;
  const finished = (c: any) => Date.parse(c.lastState?.terminated?.finishedAt ?? '') || 0;
  let initializing = false;
  const inits: any[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    restarts += c.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finished(c));
    if (restartable(initSpecs.get(c.name))) {
      restartableRestarts += c.restartCount ?? 0;
      lastRestartableRestart = Math.max(lastRestartableRestart, finished(c));
    }
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (restartable(initSpecs.get(c.name)) && c.started) {
      if (c.ready) readyContainers++;
      continue;
    }
    if (t)
      reason = t.reason
        ? `Init:${t.reason}`
        : t.signal
          ? `Init:Signal:${t.signal}`
          : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  const initialized = (status.conditions ?? []).some(
    (c: any) => c.type === 'Initialized' && c.status === 'True',
  );
  if (!initializing || initialized) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const cs: any[] = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      restarts += c.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finished(c));
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed')
    reason = 'Terminating';
  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart > 0)
    restartsText = `${restarts} (${ageOf(new Date(lastRestart).toISOString(), now)} ago)`;
  return { ready: `${readyContainers}/${totalContainers}`, reason, restarts: restartsText };
}

function nodeStatus(node: any): string {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const states = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (node.spec?.unschedulable) states.push('SchedulingDisabled');
  return states.join(',');
}

function nodeRoles(node: any): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function servicePorts(svc: any): string {
  const ports: any[] = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function externalIp(svc: any): string {
  const type = svc.spec?.type ?? 'ClusterIP';
  const external: string[] = svc.spec?.externalIPs ?? [];
  const lb: string[] = (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname);
  if (type === 'ExternalName') return svc.spec?.externalName ?? '<none>';
  if (type === 'LoadBalancer') {
    const all = [...lb, ...external];
    return all.length > 0 ? all.join(',') : '<pending>';
  }
  return external.length > 0 ? external.join(',') : '<none>';
}

function endpointsText(ep: any): string {
  const out: string[] = [];
  for (const s of ep.subsets ?? []) {
    const ports: any[] = s.ports ?? [];
    for (const a of s.addresses ?? []) {
      if (ports.length === 0) out.push(a.ip);
      for (const p of ports) out.push(`${a.ip}:${p.port}`);
    }
  }
  if (out.length === 0) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

function jobStatus(job: any): string {
  const conds: any[] = job.status?.conditions ?? [];
  const is = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (is('Failed')) return 'Failed';
  if (is('Complete')) return 'Complete';
  if (is('Suspended')) return 'Suspended';
  if (is('FailureTarget')) return 'FailureTarget';
  if (is('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

function jobDuration(job: any, now: number): string {
  const start = Date.parse(job.status?.startTime ?? '');
  if (!start) return '';
  const end = Date.parse(job.status?.completionTime ?? '') || now;
  return ageOf(new Date(start).toISOString(), end);
}

function hpaTargets(hpa: any): string {
  const metrics: any[] = hpa.spec?.metrics ?? [];
  if (metrics.length === 0) return '<none>';
  const current: any[] = hpa.status?.currentMetrics ?? [];
  const parts = metrics.map((m, i) => {
    if (m.type === 'Resource') {
      const cur = current[i]?.resource?.current;
      const t = m.resource?.target ?? {};
      if (t.averageUtilization !== undefined)
        return `${m.resource.name}: ${cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>'}/${t.averageUtilization}%`;
      return `${m.resource.name}: ${cur?.averageValue ?? '<unknown>'}/${t.averageValue ?? t.value}`;
    }
    return `${m.type}: <unknown>`;
  });
  return parts.length > 3
    ? `${parts.slice(0, 3).join(', ')} + ${parts.length - 3} more...`
    : parts.join(', ');
}

function ingressHosts(ing: any): string {
  const hosts = (ing.spec?.rules ?? []).map((r: any) => r.host).filter(Boolean);
  return hosts.length === 0 ? '*' : hosts.join(',');
}

function eventObject(ev: any): string {
  const o = ev.involvedObject ?? {};
  return `${String(o.kind ?? '').toLowerCase()}/${o.name ?? ''}`;
}

function subjectsOf(binding: any, kind: string): string {
  const names = (binding.subjects ?? [])
    .filter((s: any) => s.kind === kind)
    .map((s: any) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name));
  return names.join(', ');
}

const CREATED_AT = col(
  'Created At',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
  0,
  'date',
);

/** The printers of pkg/printers/internalversion for the built-in kinds the twin serves, by "group/Kind". */
export const BUILTIN_PRINTERS: Record<string, Printer> = {
  '/Pod': {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE,
      col(
        'IP',
        'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
        1,
      ),
      col('Node', 'NodeName is a request to schedule this pod onto a specific node.', 1),
      col(
        'Nominated Node',
        'nominatedNodeName is set only when this pod preempts other pods on the node.',
        1,
      ),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    cells(pod, now) {
      const s = podStatus(pod, now);
      const gates: any[] = pod.spec?.readinessGates ?? [];
      const conds: any[] = pod.status?.conditions ?? [];
      const gateText =
        gates.length === 0
          ? '<none>'
          : `${gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`;
      return [
        pod.metadata.name,
        s.ready,
        s.reason,
        s.restarts,
        ageOf(pod.metadata.creationTimestamp, now),
        none(pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP),
        none(pod.spec?.nodeName),
        none(pod.status?.nominatedNodeName),
        gateText,
      ];
    },
    conditions(pod) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded')
        return [
          {
            type: 'Completed',
            status: 'True',
            reason: 'Succeeded',
            message: 'The pod has completed successfully.',
          } as any,
        ];
      if (phase === 'Failed')
        return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' } as any];
      return undefined;
    },
  },
  'apps/Deployment': {
    columns: [
      NAME,
      col('Ready', 'Number of the pod with ready state'),
      col(
        'Up-to-date',
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
        0,
        'integer',
      ),
      col(
        'Available',
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
        0,
        'integer',
      ),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells(d, now) {
      const [c, i] = containersOf(d.spec?.template);
      return [
        d.metadata.name,
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        ageOf(d.metadata.creationTimestamp, now),
        c,
        i,
        formatLabelSelector(d.spec?.selector),
      ];
    },
  },
  'apps/ReplicaSet': {
    columns: [
      NAME,
      col('Desired', 'Number of desired pods.', 0, 'integer'),
      col('Current', 'Number of actual replicas.', 0, 'integer'),
      col('Ready', 'The number of ready replicas for this replica set.', 0, 'integer'),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells(rs, now) {
      const [c, i] = containersOf(rs.spec?.template);
      return [
        rs.metadata.name,
        rs.spec?.replicas ?? 1,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        ageOf(rs.metadata.creationTimestamp, now),
        c,
        i,
        formatLabelSelector(rs.spec?.selector),
      ];
    },
  },
  'apps/StatefulSet': {
    columns: [NAME, col('Ready', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
    cells(s, now) {
      const [c, i] = containersOf(s.spec?.template);
      return [
        s.metadata.name,
        `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`,
        ageOf(s.metadata.creationTimestamp, now),
        c,
        i,
      ];
    },
  },
  'apps/DaemonSet': {
    columns: [
      NAME,
      col('Desired', 'The total number of nodes that should be running the daemon pod.', 0, 'integer'),
      col(
        'Current',
        'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
        0,
        'integer',
      ),
      col(
        'Ready',
        'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
        0,
        'integer',
      ),
      col('Up-to-date', 'The total number of nodes that are running updated daemon pod', 0, 'integer'),
      col(
        'Available',
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
        0,
        'integer',
      ),
      col('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells(ds, now) {
      const [c, i] = containersOf(ds.spec?.template);
      const st = ds.status ?? {};
      return [
        ds.metadata.name,
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        mapSelector(ds.spec?.template?.spec?.nodeSelector),
        ageOf(ds.metadata.creationTimestamp, now),
        c,
        i,
        formatLabelSelector(ds.spec?.selector),
      ];
    },
  },
  '/Service': {
    columns: [
      NAME,
      col('Type', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col(
        'External-IP',
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      ),
      col('Port(s)', 'The list of ports that are exposed by this service.'),
      AGE,
      col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1),
    ],
    cells(svc, now) {
      return [
        svc.metadata.name,
        svc.spec?.type ?? 'ClusterIP',
        none(svc.spec?.clusterIP),
        externalIp(svc),
        servicePorts(svc),
        ageOf(svc.metadata.creationTimestamp, now),
        mapSelector(svc.spec?.selector),
      ];
    },
  },
  '/Node': {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'List of addresses reachable to the node.', 1),
      col(
        'OS-Image',
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
        1,
      ),
      col(
        'Kernel-Version',
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
      ),
      col(
        'Container-Runtime',
        'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
        1,
      ),
    ],
    cells(node, now) {
      const addr = (t: string) => (node.status?.addresses ?? []).find((a: any) => a.type === t)?.address;
      const info = node.status?.nodeInfo ?? {};
      return [
        node.metadata.name,
        nodeStatus(node),
        nodeRoles(node),
        ageOf(node.metadata.creationTimestamp, now),
        info.kubeletVersion ?? '',
        none(addr('InternalIP')),
        none(addr('ExternalIP')),
        none(info.osImage),
        none(info.kernelVersion),
        none(info.containerRuntimeVersion),
      ];
    },
  },
  '/Namespace': {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    cells: (ns, now) => [
      ns.metadata.name,
      ns.status?.phase ?? 'Active',
      ageOf(ns.metadata.creationTimestamp, now),
    ],
  },
  '/ConfigMap': {
    columns: [NAME, col('Data', 'Number of data entries', 0, 'integer'), AGE],
    cells: (cm, now) => [
      cm.metadata.name,
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      ageOf(cm.metadata.creationTimestamp, now),
    ],
  },
  '/Secret': {
    columns: [
      NAME,
      col('Type', 'The type of the secret'),
      col('Data', 'Number of data entries', 0, 'integer'),
      AGE,
    ],
    cells: (s, now) => [
      s.metadata.name,
      s.type ?? 'Opaque',
      Object.keys(s.data ?? {}).length + Object.keys(s.stringData ?? {}).length,
      ageOf(s.metadata.creationTimestamp, now),
    ],
  },
  '/ServiceAccount': {
    columns: [
      NAME,
      col(
        'Secrets',
        'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
        0,
        'integer',
      ),
      AGE,
    ],
    cells: (sa, now) => [
      sa.metadata.name,
      (sa.secrets ?? []).length,
      ageOf(sa.metadata.creationTimestamp, now),
    ],
  },
  '/Endpoints': {
    columns: [NAME, col('Endpoints', 'Endpoints of the service'), AGE],
    cells: (ep, now) => [ep.metadata.name, endpointsText(ep), ageOf(ep.metadata.creationTimestamp, now)],
  },
  '/Event': {
    columns: [
      col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'Reason is why the action was taken. It is human-readable.'),
      col('Object', 'The object that this event is about.'),
      col('Subobject', 'The subobject that this event is about.', 1),
      col(
        'Source',
        'The component reporting this event. Should be a short machine understandable string.',
        1,
      ),
      col('Message', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'The time at which the event was first recorded.', 1),
      col('Count', 'The number of times this event has occurred.', 1, 'integer'),
      { ...NAME, priority: 1 },
    ],
    cells(ev, now) {
      const last = ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp;
      const first = ev.firstTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp;
      return [
        ageOf(last, now),
        ev.type ?? '',
        ev.reason ?? '',
        eventObject(ev),
        ev.involvedObject?.fieldPath ?? '',
        ev.source?.component ?? ev.reportingComponent ?? '',
        String(ev.message ?? '').trim(),
        ageOf(first, now),
        ev.count ?? 1,
        ev.metadata.name,
      ];
    },
  },
  'batch/Job': {
    columns: [
      NAME,
      col('Status', 'Status of the job.'),
      col('Completions', 'The completion status of the job as a fraction.'),
      col('Duration', 'Time required to complete the job.'),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells(job, now) {
      const [c, i] = containersOf(job.spec?.template);
      const completions = job.spec?.completions;
      const succeeded = job.status?.succeeded ?? 0;
      return [
        job.metadata.name,
        jobStatus(job),
        completions !== undefined && completions !== null
          ? `${succeeded}/${completions}`
          : `${succeeded}/1 of ${job.spec?.parallelism ?? 1}`,
        jobDuration(job, now),
        ageOf(job.metadata.creationTimestamp, now),
        c,
        i,
        formatLabelSelector(job.spec?.selector),
      ];
    },
  },
  'batch/CronJob': {
    columns: [
      NAME,
      col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'The time zone name for the given schedule.'),
      col('Suspend', 'This flag tells the controller to suspend subsequent executions.', 0, 'boolean'),
      col('Active', 'A list of pointers to currently running jobs.', 0, 'integer'),
      col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells(cj, now) {
      const [c, i] = containersOf(cj.spec?.jobTemplate?.spec?.template);
      return [
        cj.metadata.name,
        cj.spec?.schedule ?? '',
        none(cj.spec?.timeZone),
        cj.spec?.suspend === true,
        (cj.status?.active ?? []).length,
        cj.status?.lastScheduleTime ? ageOf(cj.status.lastScheduleTime, now) : '<none>',
        ageOf(cj.metadata.creationTimestamp, now),
        c,
        i,
        formatLabelSelector(cj.spec?.jobTemplate?.spec?.selector),
      ];
    },
  },
  'autoscaling/HorizontalPodAutoscaler': {
    columns: [
      NAME,
      col('Reference', 'The reference to the scale target'),
      col('Targets', 'The current and target metrics'),
      col(
        'MinPods',
        'The lower limit for the number of pods that can be set by the autoscaler',
        0,
        'integer',
      ),
      col(
        'MaxPods',
        'The upper limit for the number of pods that can be set by the autoscaler',
        0,
        'integer',
      ),
      col('Replicas', 'Current number of replicas of pods managed by this autoscaler', 0, 'integer'),
      AGE,
    ],
    cells(hpa, now) {
      const ref = hpa.spec?.scaleTargetRef ?? {};
      return [
        hpa.metadata.name,
        `${ref.kind}/${ref.name}`,
        hpaTargets(hpa),
        hpa.spec?.minReplicas ?? 1,
        hpa.spec?.maxReplicas ?? 0,
        hpa.status?.currentReplicas ?? 0,
        ageOf(hpa.metadata.creationTimestamp, now),
      ];
    },
  },
  'policy/PodDisruptionBudget': {
    columns: [
      NAME,
      col('Min Available', 'The minimum number of pods that must be available'),
      col('Max Unavailable', 'The maximum number of pods that may be unavailable'),
      col(
        'Allowed Disruptions',
        'Calculated number of pods that may be disrupted at this time',
        0,
        'integer',
      ),
      AGE,
    ],
    cells: (pdb, now) => [
      pdb.metadata.name,
      pdb.spec?.minAvailable !== undefined ? String(pdb.spec.minAvailable) : 'N/A',
      pdb.spec?.maxUnavailable !== undefined ? String(pdb.spec.maxUnavailable) : 'N/A',
      pdb.status?.disruptionsAllowed ?? 0,
      ageOf(pdb.metadata.creationTimestamp, now),
    ],
  },
  'networking.k8s.io/Ingress': {
    columns: [
      NAME,
      col('Class', 'The name of the IngressClass resource that should be used for ingress.'),
      col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'Ports of TLS configurations that open'),
      AGE,
    ],
    cells: (ing, now) => [
      ing.metadata.name,
      ing.spec?.ingressClassName ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'] ?? '<none>',
      ingressHosts(ing),
      (ing.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname).join(','),
      (ing.spec?.tls ?? []).length > 0 ? '80, 443' : '80',
      ageOf(ing.metadata.creationTimestamp, now),
    ],
  },
  'networking.k8s.io/NetworkPolicy': {
    columns: [NAME, col('Pod-Selector', 'A label selector is a label query over a set of resources.'), AGE],
    cells: (np, now) => [
      np.metadata.name,
      formatLabelSelector(np.spec?.podSelector),
      ageOf(np.metadata.creationTimestamp, now),
    ],
  },
  'networking.k8s.io/IngressClass': {
    columns: [
      NAME,
      col('Controller', 'Controller that is responsible for handling this class'),
      col('Parameters', 'A reference to a resource with additional parameters'),
      AGE,
    ],
    cells: (ic, now) => [
      ic.metadata.name,
      ic.spec?.controller ?? '',
      ic.spec?.parameters ? `${ic.spec.parameters.kind}/${ic.spec.parameters.name}` : '<none>',
      ageOf(ic.metadata.creationTimestamp, now),
    ],
  },
  '/PersistentVolumeClaim': {
    columns: [
      NAME,
      col(
        'Status',
        'The phase indicates if a volume is available, bound to a claim, or released by a claim.',
      ),
      col('Volume', 'VolumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'The actual resources of the underlying volume.'),
      col('Access Modes', 'AccessModes contains the desired access modes the volume should have.'),
      col('StorageClass', 'StorageClassName is the name of the StorageClass required by the claim.'),
      col(
        'VolumeAttributesClass',
        'VolumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.',
      ),
      AGE,
      col('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', 1),
    ],
    cells: (pvc, now) => [
      pvc.metadata.name,
      pvc.status?.phase ?? 'Pending',
      pvc.spec?.volumeName ?? '',
      pvc.status?.capacity?.storage ?? '',
      accessModes(pvc.status?.accessModes ?? []),
      pvc.spec?.storageClassName ?? '',
      none(pvc.spec?.volumeAttributesClassName),
      ageOf(pvc.metadata.creationTimestamp, now),
      pvc.spec?.volumeMode ?? 'Filesystem',
    ],
  },
  'storage.k8s.io/StorageClass': {
    columns: [
      NAME,
      col('Provisioner', 'Provisioner indicates the type of the provisioner.'),
      col(
        'ReclaimPolicy',
        'Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy.',
      ),
      col(
        'VolumeBindingMode',
        'VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.',
      ),
      col(
        'AllowVolumeExpansion',
        'AllowVolumeExpansion shows whether the storage class allow volume expand.',
      ),
      AGE,
    ],
    cells: (sc, now) => [
      sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true'
        ? `${sc.metadata.name} (default)`
        : sc.metadata.name,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion === true,
      ageOf(sc.metadata.creationTimestamp, now),
    ],
  },
  'scheduling.k8s.io/PriorityClass': {
    columns: [
      NAME,
      col('Value', 'The value of this priority class.', 0, 'integer'),
      col(
        'Global-Default',
        'globalDefault specifies whether this PriorityClass should be considered as the default priority.',
        0,
        'boolean',
      ),
      AGE,
      col('PreemptionPolicy', 'PreemptionPolicy is the Policy for preempting pods with lower priority.'),
    ],
    cells: (pc, now) => [
      pc.metadata.name,
      pc.value ?? 0,
      pc.globalDefault === true,
      ageOf(pc.metadata.creationTimestamp, now),
      pc.preemptionPolicy ?? 'PreemptLowerPriority',
    ],
  },
  'rbac.authorization.k8s.io/Role': {
    columns: [NAME, CREATED_AT],
    cells: (r) => [r.metadata.name, r.metadata.creationTimestamp],
  },
  'rbac.authorization.k8s.io/ClusterRole': {
    columns: [NAME, CREATED_AT],
    cells: (r) => [r.metadata.name, r.metadata.creationTimestamp],
  },
  'rbac.authorization.k8s.io/RoleBinding': {
    columns: [
      NAME,
      col('Role', 'Role'),
      AGE,
      col('Users', 'Users in the roleBinding', 1),
      col('Groups', 'Groups in the roleBinding', 1),
      col('ServiceAccounts', 'ServiceAccounts in the roleBinding', 1),
    ],
    cells: (b, now) => [
      b.metadata.name,
      `${b.roleRef?.kind}/${b.roleRef?.name}`,
      ageOf(b.metadata.creationTimestamp, now),
      subjectsOf(b, 'User'),
      subjectsOf(b, 'Group'),
      subjectsOf(b, 'ServiceAccount'),
    ],
  },
  'rbac.authorization.k8s.io/ClusterRoleBinding': {
    columns: [
      NAME,
      col('Role', 'Role'),
      AGE,
      col('Users', 'Users in the clusterRoleBinding', 1),
      col('Groups', 'Groups in the clusterRoleBinding', 1),
      col('ServiceAccounts', 'ServiceAccounts in the clusterRoleBinding', 1),
    ],
    cells: (b, now) => [
      b.metadata.name,
      `${b.roleRef?.kind}/${b.roleRef?.name}`,
      ageOf(b.metadata.creationTimestamp, now),
      subjectsOf(b, 'User'),
      subjectsOf(b, 'Group'),
      subjectsOf(b, 'ServiceAccount'),
    ],
  },
  'apiextensions.k8s.io/CustomResourceDefinition': {
    columns: [NAME, CREATED_AT],
    cells: (r) => [r.metadata.name, r.metadata.creationTimestamp],
  },
  'coordination.k8s.io/Lease': {
    columns: [NAME, col('Holder', 'The holder of the lease.'), AGE],
    cells: (l, now) => [
      l.metadata.name,
      l.spec?.holderIdentity ?? '',
      ageOf(l.metadata.creationTimestamp, now),
    ],
  },
  'discovery.k8s.io/EndpointSlice': {
    columns: [
      NAME,
      col('AddressType', 'The IP protocol for this slice'),
      col('Ports', 'Ports of this slice'),
      col('Endpoints', 'Endpoints of this slice'),
      AGE,
    ],
    cells: (s, now) => [
      s.metadata.name,
      s.addressType ?? '',
      (s.ports ?? []).map((p: any) => p.port).join(',') || '<unset>',
      (s.endpoints ?? []).flatMap((e: any) => e.addresses ?? []).join(',') || '<unset>',
      ageOf(s.metadata.creationTimestamp, now),
    ],
  },
};

function accessModes(modes: string[]): string {
  const short: Record<string, string> = {
    ReadWriteOnce: 'RWO',
    ReadOnlyMany: 'ROX',
    ReadWriteMany: 'RWX',
    ReadWriteOncePod: 'RWOP',
  };
  return modes.map((m) => short[m] ?? m).join(',');
}

/** A kind without a printer of its own: Name and Created At, as the default table convertor makes. */
export const DEFAULT_PRINTER: Printer = {
  columns: [NAME, CREATED_AT],
  cells: (o: KubeObject) => [o.metadata.name, o.metadata.creationTimestamp],
};
