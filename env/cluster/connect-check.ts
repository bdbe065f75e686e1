import { TwinError } from '../../core/errors.ts';
import type { ConnectResult } from '../../kube/connectivity.ts';

/**
 * The probe run inside the source pod's container (`sh -c <script> probe <host> <port> <seconds>`):
 * one TCP connection attempt with whatever the image has, Node.js (our workloads' images), bash with
 * a `timeout` (coreutils' exits 124 when the time is up; BusyBox's, in Alpine images such as agnhost,
 * runs the program in its own process and kills it, so the shell sees 143: both mean timed out), or
 * netcat; it prints connected, refused or timed-out and exits 0, or prints no-probe when the image
 * has none of them.
 */
export const CONNECT_PROBE_SCRIPT = [
  'h="$1"; p="$2"; t="$3"',
  'if command -v node >/dev/null 2>&1; then',
  `  exec node -e 'const s = require("net").connect(+process.argv[2], process.argv[1]); setTimeout(() => { console.log("timed-out"); process.exit(0); }, +process.argv[3] * 1000); s.on("connect", () => { console.log("connected"); process.exit(0); }); s.on("error", (e) => { console.log(e.code === "ETIMEDOUT" ? "timed-out" : "refused"); process.exit(0); });' "$h" "$p" "$t"`,
  'fi',
  'if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then',
  '  timeout "$t" bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$h" "$p" 2>/dev/null; c=$?',
  '  if [ "$c" -eq 0 ]; then echo connected; elif [ "$c" -eq 124 ] || [ "$c" -eq 143 ]; then echo timed-out; else echo refused; fi',
  '  exit 0',
  'fi',
  'if command -v nc >/dev/null 2>&1; then',
  '  s=$(date +%s)',
  '  if nc -z -w "$t" "$h" "$p" 2>/dev/null; then echo connected',
  '  elif [ $(( $(date +%s) - s )) -ge "$t" ]; then echo timed-out',
  '  else echo refused; fi',
  '  exit 0',
  'fi',
  'echo no-probe',
].join('\n');

/**
 * `kubectl exec` of the probe in the source pod: the connection leaves from the pod's own network
 * namespace, so the cluster's NetworkPolicy plugin judges it as it judges the pod's own traffic.
 */
export function connectCheckArgv(o: {
  kubeconfig: string;
  /** The kubeconfig context (an existing cluster's; k3d's kubeconfig has one). */
  context?: string;
  from: { namespace: string; pod: string };
  host: string;
  port: number;
  timeoutMs: number;
}): string[] {
  const seconds = String(Math.max(1, Math.ceil(o.timeoutMs / 1000)));
  return [
    'kubectl',
    '--kubeconfig',
    o.kubeconfig,
    ...(o.context ? ['--context', o.context] : []),
    'exec',
    '--namespace',
    o.from.namespace,
    o.from.pod,
    '--',
    'sh',
    '-c',
    CONNECT_PROBE_SCRIPT,
    'probe',
    o.host,
    String(o.port),
    seconds,
  ];
}

/** The probe's answer; a pod whose image has no way to connect is an error that says so. */
export function connectOutcome(stdout: string, what: string): ConnectResult['outcome'] {
  const word = stdout.trim().split('\n').at(-1)?.trim();
  if (word === 'connected' || word === 'refused' || word === 'timed-out') return word;
  throw new TwinError(
    'TWIN_ENV_UNAVAILABLE',
    word === 'no-probe'
      ? `${what}: the source pod's image has neither node, bash with timeout, nor nc to open a connection from; check from another pod`
      : `${what}: unexpected answer from the connection probe: ${JSON.stringify(stdout.trim().slice(0, 200))}`,
  );
}
