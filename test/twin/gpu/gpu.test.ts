import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../kube/clock.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { TwinBindings } from '../../../system/twin-bindings.ts';
import {
  assignGpuDevices,
  GpuAllocator,
  type GpuDevice,
  listHostGpus,
  parseNvidiaSmiList,
} from '../../../twin/gpu/index.ts';
import { Kubelet } from '../../../twin/kubelet/kubelet.ts';
import { WorkloadBundler } from '../../../twin/kubelet/workload-bundler.ts';
import { EventRecorder } from '../../../twin/store/event-recorder.ts';
import { ObjectStore } from '../../../twin/store/object-store.ts';
import { until } from '../kubelet/process-state.ts';

const H100 = [
  'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0a1b2c3d-0000-1111-2222-333344445555)',
  'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-9f8e7d6c-0000-1111-2222-333344445555)',
].join('\n');

function gpuNode(name: string, gpus: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'nvidia.com/gpu.count': String(gpus) } },
    spec: {},
    status: {
      capacity: { cpu: '4', 'nvidia.com/gpu': String(gpus) },
      allocatable: { cpu: '4', 'nvidia.com/gpu': String(gpus) },
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
    },
  };
}

/** A directory with a fake `nvidia-smi` that lists two H100s for -L. */
function fakeNvidiaSmiDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-nvidia-smi-'));
  const script = join(dir, 'nvidia-smi');
  writeFileSync(
    script,
    `#!/bin/sh\nif [ "$1" = "-L" ]; then cat <<'EOF'\n${H100}\nEOF\nexit 0; fi\nexit 9\n`,
  );
  chmodSync(script, 0o755);
  return dir;
}

describe('GPU devices: nvidia-smi, node assignment, exclusive allocation', () => {
  it('parses nvidia-smi -L', () => {
    expect(parseNvidiaSmiList(`${H100}\n`)).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-0a1b2c3d-0000-1111-2222-333344445555' },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-9f8e7d6c-0000-1111-2222-333344445555' },
    ]);
  });

  it('lists the host GPUs through the nvidia-smi found on PATH (a fake one here), and says why when there is none', async () => {
    const saved = process.env['PATH'];
    const fake = fakeNvidiaSmiDir();
    process.env['PATH'] = `${fake}:${saved}`;
    try {
      const listed = await listHostGpus();
      expect(listed.devices?.map((d) => d.index)).toEqual([0, 1]);
    } finally {
      process.env['PATH'] = saved;
      rmSync(fake, { recursive: true, force: true });
    }
    const missing = await listHostGpus('/nonexistent/nvidia-smi');
    expect(missing.devices).toBeUndefined();
    expect('reason' in missing && missing.reason).toContain('not found on PATH');
  });

  it('passthrough deals the host devices to the GPU nodes and sets their capacity to what they got', () => {
    const host = parseNvidiaSmiList(H100).slice(0, 1);
    const [a, b, cpu] = assignGpuDevices(
      [gpuNode('gpu-a', 1), gpuNode('gpu-b', 1), gpuNode('cpu', 0)],
      'passthrough',
      host,
    );
    expect(a!.metadata.annotations!['twin.dev/gpu-devices']).toBe(host[0]!.uuid);
    expect(a!.status.allocatable['nvidia.com/gpu']).toBe('1');
    expect(a!.metadata.labels!['nvidia.com/gpu.product']).toBe('NVIDIA-H100-80GB-HBM3');
    expect(b!.status.allocatable['nvidia.com/gpu']).toBe('0');
    expect(cpu!.metadata.annotations?.['twin.dev/gpu-devices']).toBeUndefined();
    const emulated = assignGpuDevices([gpuNode('gpu-a', 2)], 'emulated');
    expect(emulated[0]!.metadata.annotations!['twin.dev/gpu-devices']!.split(',')).toHaveLength(2);
    expect(emulated[0]!.status.allocatable['nvidia.com/gpu']).toBe('2');
  });

  it('never grants the same device to two pods; a released device can be granted again', () => {
    const host: GpuDevice[] = parseNvidiaSmiList(H100);
    const [node] = assignGpuDevices([gpuNode('gpu-a', 2)], 'passthrough', host);
    const gpus = new GpuAllocator('passthrough', new Map(host.map((d) => [d.uuid, d.index])));
    const a = gpus.allocate('a', node!, 1);
    const b = gpus.allocate('b', node!, 1);
    expect(a).not.toEqual(b);
    expect(() => gpus.allocate('c', node!, 1)).toThrow(/Requested: 1, Available: 0/);
    gpus.release('a');
    expect(gpus.allocate('c', node!, 1)).toEqual(a);
    expect(gpus.environment(b)).toEqual({ NVIDIA_VISIBLE_DEVICES: b[0], CUDA_VISIBLE_DEVICES: '1' });
    expect(gpus.environment([])).toEqual({ NVIDIA_VISIBLE_DEVICES: 'void', CUDA_VISIBLE_DEVICES: '' });
  });
});

let kubelet: Kubelet | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await kubelet?.shutdown(500);
  kubelet = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A kubelet whose one image runs `script` with sh, on node `gpu-a` with the given devices. */
function gpuKubelet(script: string, mode: 'emulated' | 'passthrough', host: GpuDevice[]) {
  const dir = mkdtempSync(join(tmpdir(), 'twin-gpu-'));
  dirs.push(dir);
  const clock = new ScaledClock(100);
  const store = new ObjectStore(() => clock.now());
  const events = new EventRecorder(store, clock);
  let ip = 0;
  kubelet = new Kubelet({
    bindings: new TwinBindings([{ image: 'twin.test/gpu-check', command: ['/bin/sh', '-c', script] }], dir),
    bundler: new WorkloadBundler(join(dir, 'bundles')),
    podsDir: join(dir, 'pods'),
    volumesDir: join(dir, 'volumes'),
    cwd: dir,
    allocatePodIp: () => `127.10.250.${++ip + 1}`,
    releasePodIp: () => {},
    nodeImports: [],
    dnsFile: join(dir, 'dns.json'),
    gpus: new GpuAllocator(mode, new Map(host.map((d) => [d.uuid, d.index]))),
  });
  kubelet.start({ store, clock, events, log: () => {} });
  const [node] = assignGpuDevices([gpuNode('gpu-a', host.length || 2)], mode, host);
  store.create(node!);
  const create = (name: string, gpus: number) =>
    store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: {
        nodeName: 'gpu-a',
        restartPolicy: 'Never',
        containers: [
          {
            name: 'check',
            image: 'twin.test/gpu-check:1',
            resources: gpus > 0 ? { limits: { 'nvidia.com/gpu': String(gpus) } } : {},
          },
        ],
      },
    });
  const logs = async (name: string) => {
    let text = '';
    await until(
      `${name} to report its devices`,
      () => {
        text = kubelet!.logs('default', name);
        return text.includes('\n');
      },
      10_000,
    );
    return text.trim();
  };
  return { create, logs, node: node! };
}

describe('GPU passthrough to live pods (fake nvidia-smi devices)', () => {
  it('gives each live pod granted a GPU its own NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES, and none to others', async () => {
    const host = parseNvidiaSmiList(H100);
    const k = gpuKubelet(
      'echo "$NVIDIA_VISIBLE_DEVICES|$CUDA_VISIBLE_DEVICES"; sleep 5',
      'passthrough',
      host,
    );
    k.create('one', 1);
    k.create('two', 1);
    k.create('cpu', 0);
    const one = (await k.logs('one')).split('|');
    const two = (await k.logs('two')).split('|');
    expect(host.map((d) => d.uuid)).toContain(one[0]);
    expect(host.map((d) => d.uuid)).toContain(two[0]);
    expect(one[0]).not.toBe(two[0]);
    expect(one[1]).toBe(String(host.find((d) => d.uuid === one[0])!.index));
    expect(two[1]).toBe(String(host.find((d) => d.uuid === two[0])!.index));
    expect(await k.logs('cpu')).toBe('void|');
  });
});

const hasNvidiaSmi = (() => {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasNvidiaSmi)('GPU passthrough on a real GPU (needs nvidia-smi: not found)', () => {
  it('a live pod granted one GPU runs on exactly the device it was given, and reports it', async () => {
    const listed = await listHostGpus();
    const host = listed.devices ?? [];
    const k = gpuKubelet(
      'nvidia-smi --query-gpu=index,uuid,name --format=csv,noheader -i "$NVIDIA_VISIBLE_DEVICES"; echo "CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"; sleep 5',
      'passthrough',
      host,
    );
    k.create('gpu-check', 1);
    const out = await k.logs('gpu-check');
    console.log(`real GPU passthrough check:\n${out}`);
    const granted = k.node.metadata.annotations!['twin.dev/gpu-devices']!.split(',')[0]!;
    expect(out).toContain(granted);
  });
});
