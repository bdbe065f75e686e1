import { spawn } from 'node:child_process';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { detect, grayscale, resize } from '../../workloads/imageflow-processing/image-operations.ts';
import { decodePixmap, encodePixmap, type Pixmap } from '../../workloads/imageflow-processing/pixmap.ts';
import { callStage, ImageProcessorClient } from '../../workloads/imageflow-processing/processing-service.ts';
import { REPO_ROOT } from './spawn-workload.ts';

/** A dark w×h image with bright squares at the given corners. */
function image(w: number, h: number, squares: [number, number, number][]): Pixmap {
  const rgb = new Uint8Array(w * h * 3).fill(10);
  for (const [x0, y0, size] of squares)
    for (let y = y0; y < y0 + size; y++)
      for (let x = x0; x < x0 + size; x++) rgb.fill(240, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, rgb };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe('ImageFlowCanvas image operations', () => {
  it('encodes and decodes binary PPM, and refuses what is not one', () => {
    const p = image(5, 3, [[1, 1, 1]]);
    expect(decodePixmap(encodePixmap(p))).toEqual(p);
    expect(() => decodePixmap(Buffer.from('P3\n1 1\n255\n0 0 0'))).toThrow(/not a binary PPM image/);
    expect(() => decodePixmap(Buffer.from('P6\n2 2\n255\nabc'))).toThrow(/3 bytes of pixels, expected 12/);
  });

  it('finds each bright square as one object, before and after resizing', () => {
    const p = image(160, 120, [
      [10, 20, 24],
      [46, 50, 24],
      [82, 30, 24],
    ]);
    expect(detect(p).map((d) => [d.x, d.y, d.width, d.height])).toEqual([
      [10, 20, 24, 24],
      [82, 30, 24, 24],
      [46, 50, 24, 24],
    ]);
    const small = resize(p, 64);
    expect([small.width, small.height]).toEqual([64, 48]);
    expect(detect(small)).toHaveLength(3);
    expect(detect(image(20, 20, []))).toEqual([]);
  });

  it('turns an image grey (BT.601 luma)', () => {
    const g = grayscale({ width: 1, height: 1, rgb: new Uint8Array([255, 0, 0]) });
    expect([...g.rgb]).toEqual([76, 76, 76]);
  });
});

describe('ImageFlowCanvas processing service over gRPC', () => {
  const start = async (env: Record<string, string>) => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'workloads/imageflow-processing/server.ts'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        POD_IP: '127.0.0.1',
        GRPC_PORT: String(port),
        HOSTNAME: 'test-pod',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    return { port, child, exited, output: () => output };
  };

  it('resizes through a unary call and names the pod that answered', async () => {
    const svc = await start({ PROCESSING_STAGE: 'resize', RESIZE_WIDTH: '32' });
    const client = new ImageProcessorClient(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure());
    try {
      const deadline = Date.now() + 20_000;
      let reply: Awaited<ReturnType<typeof callStage>> | undefined;
      while (!reply) {
        reply = await callStage(client, { jobId: 'j1', image: encodePixmap(image(64, 32, [])) }, 5000).catch(
          (e) => {
            if (Date.now() > deadline) throw new Error(`${e}\n${svc.output()}`);
            return undefined;
          },
        );
        if (!reply) await new Promise((r) => setTimeout(r, 300));
      }
      expect(reply.stage).toBe('resize');
      expect(reply.pod).toBe('test-pod');
      expect([decodePixmap(reply.image).width, decodePixmap(reply.image).height]).toEqual([32, 16]);
      const err = await callStage(client, { jobId: 'j2', image: Buffer.from('nope') }, 5000).catch((e) => e);
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
      svc.child.kill('SIGTERM');
      await svc.exited;
    }
  }, 40_000);

  it('refuses to start the detect stage without a GPU, as a CUDA program finding no device', async () => {
    const svc = await start({ PROCESSING_STAGE: 'detect', NVIDIA_VISIBLE_DEVICES: 'void' });
    expect(await svc.exited).toBe(1);
    expect(svc.output()).toMatch(/detect needs a GPU/);
  }, 30_000);
});
