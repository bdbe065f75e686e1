import { spawnSync } from 'node:child_process';

/** Images docker/build-images.sh builds (Debian packages on a debootstrapped base); no registry needed. */
export const LOCAL_IMAGES = { postgres: 'local/postgres:15-bookworm', redis: 'local/redis:7.0-bookworm' };

const dockerUp =
  spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 })
    .status === 0;

function hasImage(image: string): boolean {
  return dockerUp && spawnSync('docker', ['image', 'inspect', image], { timeout: 20_000 }).status === 0;
}

/** Why Docker tests with `image` cannot run here, or undefined when they can. */
export function dockerSkipReason(image: string): string | undefined {
  if (!dockerUp) return 'needs a running Docker engine: `docker info` failed';
  if (!hasImage(image)) return `needs the image ${image}: run docker/build-images.sh`;
  return undefined;
}

// No Ryuk reaper: its image would have to be pulled; every test stops what it starts.
process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
