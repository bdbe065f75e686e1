import http from 'node:http';
import net from 'node:net';

/** What a probe checks (Kubernetes core/v1 Probe handlers the twin runs against live containers). */
export interface ProbeSpec {
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: Array<{ name: string; value: string }>;
  };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
  grpc?: { port: number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
};

/** Resolves a named port against the container's ports. */
export function resolvePort(port: number | string, container: any): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return (container.ports ?? []).find((p: any) => p.name === port)?.containerPort;
}

/**
 * Runs one probe attempt against a live container at podIP. Success as the kubelet defines it:
 * HTTP 200–399, a TCP connection accepted. `timeoutMs` is real time (the process runs in real time).
 */
export async function runProbe(
  probe: ProbeSpec,
  podIP: string,
  container: any,
  timeoutMs: number,
): Promise<{ ok: boolean; message: string }> {
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, container);
    if (port === undefined) return { ok: false, message: `unknown port ${probe.httpGet.port}` };
    const host = probe.httpGet.host || podIP;
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.28' };
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return new Promise((resolve) => {
      const req = http.get(
        { host, port, path: probe.httpGet!.path ?? '/', headers, timeout: timeoutMs, agent: false },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve({ ok: code >= 200 && code < 400, message: `HTTP probe failed with statuscode: ${code}` });
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new Error(`Get "http://${host}:${port}${probe.httpGet!.path ?? '/'}": context deadline exceeded`),
        ),
      );
      req.on('error', (e) => resolve({ ok: false, message: e.message }));
    });
  }
  const tcpPort = probe.tcpSocket?.port ?? probe.grpc?.port;
  if (tcpPort !== undefined) {
    const port = resolvePort(tcpPort, container);
    if (port === undefined) return { ok: false, message: `unknown port ${tcpPort}` };
    return new Promise((resolve) => {
      const socket = net.connect({ host: probe.tcpSocket?.host || podIP, port, timeout: timeoutMs });
      socket.on('connect', () => {
        socket.destroy();
        resolve({ ok: true, message: '' });
      });
      socket.on('timeout', () => {
        socket.destroy();
        resolve({ ok: false, message: `dial tcp ${podIP}:${port}: i/o timeout` });
      });
      socket.on('error', (e) => resolve({ ok: false, message: e.message }));
    });
  }
  // Twin simplification: exec probes are not run inside the process; they count as succeeding.
  return { ok: true, message: '' };
}
