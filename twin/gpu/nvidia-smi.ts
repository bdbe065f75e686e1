import { execFile } from 'node:child_process';

export interface GpuDevice {
  index: number;
  name: string;
  uuid: string;
}

/** Parses `nvidia-smi -L`: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5a1c…)" per device. */
export function parseNvidiaSmiList(text: string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const line of text.split('\n')) {
    const m = /^GPU (\d+): (.+?) \(UUID: (GPU-[0-9A-Fa-f-]+)\)\s*$/.exec(line.trim());
    if (m) devices.push({ index: Number(m[1]), name: m[2]!, uuid: m[3]! });
  }
  return devices;
}

/**
 * The host's NVIDIA GPUs as `nvidia-smi -L` lists them, or undefined with the reason when there is no
 * nvidia-smi (or it fails: no driver).
 */
export function listHostGpus(
  command = 'nvidia-smi',
): Promise<{ devices: GpuDevice[] } | { devices: undefined; reason: string }> {
  return new Promise((resolve) => {
    execFile(command, ['-L'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({
          devices: undefined,
          reason:
            code === 'ENOENT'
              ? `${command} not found on PATH`
              : `${command} -L failed: ${(stderr || err.message).trim().split('\n')[0]}`,
        });
        return;
      }
      resolve({ devices: parseNvidiaSmiList(stdout) });
    });
  });
}
