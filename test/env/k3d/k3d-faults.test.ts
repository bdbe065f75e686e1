import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { K3dFaults } from '../../../env/k3d/k3d-live.ts';
import { planK3dCluster } from '../../../env/k3d/k3d-plan.ts';
import { runK3dSteps } from '../../../env/k3d/k3d-runner.ts';
import type { K3dStep } from '../../../env/k3d/k3d-steps.ts';
import type { ClientNodeKubeApi } from '../../../env/kube-client.ts';
import { parseTopology } from '../../../system/topology/topology.ts';

const topology = parseTopology(
  `apiVersion: twin.dev/v1alpha1
kind: Topology
metadata: { name: t }
region: ap-northeast-1
zones: [ap-northeast-1a, ap-northeast-1c]
nodePools:
  - { name: general, instanceType: t3.large, nodesPerZone: 1 }
  - { name: gpu, instanceType: g4dn.xlarge, nodesPerZone: 1 }
`,
  't.yaml',
);

/** A KubeApi that records calls; nodes are always Ready. */
function fakeKube(calls: string[]): ClientNodeKubeApi {
  return {
    async waitFor(ref: { name: string }) {
      calls.push(`waitFor ${ref.name}`);
      return undefined;
    },
    async patchNodeStatus(node: string, patch: unknown) {
      calls.push(`patchNodeStatus ${node} ${JSON.stringify(patch)}`);
    },
    async killPod(ref: { name: string }) {
      calls.push(`killPod ${ref.name}`);
    },
    async apply(objects: unknown[]) {
      calls.push(`apply ${(objects as { kind: string }[]).map((o) => o.kind).join(',')}`);
      return [];
    },
    async patch(ref: { name: string }) {
      calls.push(`patch ${ref.name}`);
      return undefined;
    },
  } as unknown as ClientNodeKubeApi;
}

describe('k3d faults', () => {
  const plan = planK3dCluster(topology, { clusterName: 'z' });

  it('a zone outage stops every agent of the zone with `k3d node stop`; restore starts them and re-advertises emulated GPUs', async () => {
    const calls: string[] = [];
    const events: string[] = [];
    const faults = new K3dFaults(plan, fakeKube(calls), { exec: recordExec(calls), cwd: '/' }, (e) =>
      events.push(e.kind),
    );
    expect(await faults.failZone('ap-northeast-1c')).toEqual(['k3d-z-agent-1', 'k3d-z-agent-3']);
    expect(await faults.restoreZone('ap-northeast-1c')).toEqual(['k3d-z-agent-1', 'k3d-z-agent-3']);
    expect(calls).toEqual([
      'k3d node stop k3d-z-agent-1',
      'k3d node stop k3d-z-agent-3',
      'k3d node start k3d-z-agent-1',
      'waitFor k3d-z-agent-1',
      'k3d node start k3d-z-agent-3',
      'waitFor k3d-z-agent-3',
      `patchNodeStatus k3d-z-agent-3 ${JSON.stringify([
        { op: 'add', path: '/status/capacity/nvidia.com~1gpu', value: '1' },
        { op: 'add', path: '/status/allocatable/nvidia.com~1gpu', value: '1' },
      ])}`,
    ]);
    expect(events).toEqual([
      'ZoneFailed',
      'NodeStopped',
      'NodeStopped',
      'ZoneRestored',
      'NodeStarted',
      'NodeStarted',
    ]);
    await expect(faults.failZone('ap-northeast-1d')).rejects.toThrow(/zone ap-northeast-1d: no agent in it/);
  });

  it('nodes by production name; a partition disconnects the container from the cluster network and down() undoes the faults newest first', async () => {
    const calls: string[] = [];
    const faults = new K3dFaults(plan, fakeKube(calls), { exec: recordExec(calls), cwd: '/' }, () => {});
    expect(await faults.partitionNode('general-1a-1')).toEqual({
      mode: 'partition',
      how: 'docker network disconnect k3d-z k3d-z-agent-0',
    });
    await faults.stopNode('gpu-1a-1');
    await faults.undo();
    expect(calls).toEqual([
      'docker network disconnect k3d-z k3d-z-agent-0',
      'k3d node stop k3d-z-agent-2',
      'k3d node start k3d-z-agent-2',
      'waitFor k3d-z-agent-2',
      expect.stringMatching(/^patchNodeStatus k3d-z-agent-2 /),
      'docker network connect k3d-z k3d-z-agent-0',
      'waitFor k3d-z-agent-0',
    ]);
    await expect(faults.stopNode('nope')).rejects.toThrow(/node nope: not an agent of z/);
  });
});

describe('running the steps', () => {
  it('runs commands in order, keeps the kubeconfig, and sends Kubernetes steps to the API built from it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'k3d-run-'));
    try {
      const calls: string[] = [];
      const steps: K3dStep[] = [
        { kind: 'write', file: path.join(dir, 'k3d-config.yaml'), content: 'kind: Simple\n', why: 'config' },
        { kind: 'run', argv: ['k3d', 'cluster', 'create', '--config', 'x'], why: 'create' },
        {
          kind: 'run',
          argv: ['k3d', 'kubeconfig', 'get', 'z'],
          stdoutTo: path.join(dir, 'kubeconfig'),
          why: 'kc',
        },
        {
          kind: 'apply',
          objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }],
          why: 'ns',
        },
        { kind: 'patch-node-status', node: 'n', patch: [], why: 'gpu' },
      ];
      let kubeconfig = '';
      await runK3dSteps(steps, {
        exec: async (argv) => {
          calls.push(argv.join(' '));
          return argv[1] === 'kubeconfig' ? 'apiVersion: v1\nkind: Config\n' : '';
        },
        kube: (text) => {
          kubeconfig = text;
          return fakeKube(calls);
        },
        fetchText: async () => '',
        progress: () => {},
        cwd: dir,
      });
      expect(calls).toEqual([
        'k3d cluster create --config x',
        'k3d kubeconfig get z',
        'apply Namespace',
        'patchNodeStatus n []',
      ]);
      expect(kubeconfig).toBe('apiVersion: v1\nkind: Config\n');
      expect(await readFile(path.join(dir, 'kubeconfig'), 'utf8')).toBe(kubeconfig);
      expect(await readFile(path.join(dir, 'k3d-config.yaml'), 'utf8')).toBe('kind: Simple\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a service container's endpoint fills {VAR} in later commands; what the run started is recorded for down()", async () => {
    const calls: string[] = [];
    const state = await runK3dSteps(
      [
        {
          kind: 'container',
          service: 'localstack',
          image: 'ls:1',
          endpointVar: 'LOCALSTACK_ENDPOINT',
          why: 'ls',
        },
        {
          kind: 'run',
          argv: ['terraform', 'apply', '-var=aws_endpoint={LOCALSTACK_ENDPOINT}'],
          env: { A: '1' },
          why: 'tf',
        },
      ],
      {
        exec: async (argv, o) => {
          calls.push(`${JSON.stringify(o?.env)} ${argv.join(' ')}`);
          return '';
        },
        startContainer: async (step) => ({
          endpoint: `http://127.0.0.1:4566/${step.image}`,
          stop: async () => {},
        }),
        kube: () => fakeKube([]),
        fetchText: async () => '',
        progress: () => {},
        cwd: '/',
      },
    );
    expect(calls).toEqual(['{"A":"1"} terraform apply -var=aws_endpoint=http://127.0.0.1:4566/ls:1']);
    expect(state.vars).toEqual({ LOCALSTACK_ENDPOINT: 'http://127.0.0.1:4566/ls:1' });
    expect(state.started.map((c) => c.name)).toEqual(['ls:1']);
  });

  it('a Kubernetes step before the kubeconfig is a clear error', async () => {
    await expect(
      runK3dSteps([{ kind: 'patch-node-status', node: 'n', patch: [], why: 'gpu' }], {
        exec: async () => '',
        kube: () => fakeKube([]),
        fetchText: async () => '',
        progress: () => {},
        cwd: '/',
      }),
    ).rejects.toThrow(/before the kubeconfig step/);
  });
});

function recordExec(calls: string[]) {
  return async (argv: string[]) => {
    calls.push(argv.join(' '));
    return '';
  };
}
