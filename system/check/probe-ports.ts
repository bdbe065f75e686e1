import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, podTemplates } from './pod-templates.ts';

const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'] as const;

/**
 * Probes on ports the container does not declare. A named port (httpGet or tcpSocket) must be one of
 * the container's own ports, or the kubelet cannot resolve it and the probe fails every time: a
 * readiness probe keeps the pod unready, a liveness or startup probe restarts it until CrashLoopBackOff.
 * A numeric port the container does not list is probed all the same (containerPort is informational):
 * a note.
 */
export function probePortFindings(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const t of podTemplates(ctx.rendered)) {
    for (const { c, path, init } of containersOf(t)) {
      if (init && c?.restartPolicy !== 'Always') continue;
      const ports: any[] = c?.ports ?? [];
      for (const probe of PROBES) {
        const p = c?.[probe];
        if (!p) continue;
        const handler = p.httpGet ? 'httpGet' : p.tcpSocket ? 'tcpSocket' : p.grpc ? 'grpc' : undefined;
        if (!handler) continue;
        const port = p[handler]?.port;
        const field = `${path}.${probe}.${handler}.port`;
        if (typeof port === 'string' && !/^\d+$/.test(port)) {
          if (ports.some((q) => q?.name === port)) continue;
          out.push(
            objectFinding(ctx, t.r, {
              severity: 'error',
              check: 'probes',
              field,
              message: `the ${probe} of container ${c.name} names port "${port}", which the container does not declare (its ports: ${ports.map((q) => q?.name ?? q?.containerPort).join(', ') || 'none'})`,
              cluster:
                probe === 'readinessProbe'
                  ? `the probe fails every time (the kubelet cannot find port "${port}"): the pod never becomes Ready and gets no traffic`
                  : `the probe fails every time (the kubelet cannot find port "${port}"): the container is restarted over and over (CrashLoopBackOff)`,
            }),
          );
        } else if (port !== undefined) {
          const n = Number(port);
          if (ports.some((q) => q?.containerPort === n)) continue;
          out.push(
            objectFinding(ctx, t.r, {
              severity: 'note',
              check: 'probes',
              field,
              message: `the ${probe} of container ${c.name} probes port ${n}, which the container does not list in ports`,
              cluster:
                'probes the port anyway (a containerPort is informational); it passes if the process listens there',
            }),
          );
        }
      }
    }
  }
  return out;
}
