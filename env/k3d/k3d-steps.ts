import { stringify } from 'yaml';
import type { KubeObject } from '../../kube/object.ts';
import { FIELD_MANAGER, type JsonPatchOp } from '../kube-client.ts';

export { FIELD_MANAGER, type JsonPatchOp };

/**
 * One thing `up` does, in order. The same list is executed (k3d-runner.ts) or printed (`--dry-run`),
 * so what the dry run shows is exactly what a real run does.
 */
export type K3dStep =
  /** A command run through execa; `stdoutTo` keeps its output in a file (e.g. the kubeconfig). */
  | { kind: 'run'; argv: string[]; why: string; stdoutTo?: string; env?: Record<string, string> }
  /**
   * A service container beside the cluster (testcontainers), or the running docker-compose stack's;
   * its host endpoint becomes `{<VAR>}` in later steps' arguments.
   */
  | { kind: 'container'; service: 'localstack'; image: string; endpointVar: string; why: string }
  | { kind: 'write'; file: string; content: string; why: string }
  /** Server-side apply (field manager infra-twin, force) of objects, in order. */
  | { kind: 'apply'; objects: KubeObject[]; why: string }
  /** A pinned upstream manifest, server-side applied; namespaced objects without one go to `namespace`. */
  | { kind: 'apply-url'; url: string; namespace?: string; why: string }
  | { kind: 'patch-node-status'; node: string; patch: JsonPatchOp[]; why: string }
  | {
      kind: 'wait';
      what: 'crds-established' | 'deployments-available' | 'nodes-ready';
      namespace?: string;
      why: string;
    };

/** POSIX-shell quoting, so printed commands can be pasted. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

function objectName(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** The dry-run text of a step: a `$ command` line, or a heading followed by the exact body sent. */
export function formatStep(step: K3dStep, n: number): string {
  const head = `# ${n}. ${step.why}`;
  switch (step.kind) {
    case 'container':
      return `${head}\nstart container ${step.image} (testcontainers; the running compose service ${step.service} instead when there is one) → {${step.endpointVar}}`;
    case 'run':
      return `${head}\n$ ${Object.entries(step.env ?? {})
        .map(([k, v]) => `${k}=${shellQuote(v)} `)
        .join(
          '',
        )}${step.argv.map(shellQuote).join(' ')}${step.stdoutTo ? ` > ${shellQuote(step.stdoutTo)}` : ''}`;
    case 'write':
      return `${head}\nwrite ${step.file}:\n${indent(step.content)}`;
    case 'apply':
      return `${head}\napply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts (${step.objects.length} objects):\n${step.objects
        .map((o) => indent(`--- # ${objectName(o)}\n${stringify(o, { lineWidth: 0 }).trimEnd()}`))
        .join('\n')}`;
    case 'apply-url':
      return `${head}\napply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts${step.namespace ? ` -n ${step.namespace}` : ''} -f ${step.url}`;
    case 'patch-node-status':
      return `${head}\nPATCH /api/v1/nodes/${step.node}/status (application/json-patch+json):\n${indent(JSON.stringify(step.patch))}`;
    case 'wait':
      return `${head}\nwait ${step.what}${step.namespace ? ` -n ${step.namespace}` : ''}`;
  }
}

export function formatSteps(steps: K3dStep[]): string {
  return steps.map((s, i) => formatStep(s, i + 1)).join('\n\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
