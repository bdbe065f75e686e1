import { TwinError } from '../../core/errors.ts';

/**
 * The images the containers of the full-fidelity environment run, pinned. A team pointing at its own
 * mirror overrides one with TWIN_IMAGE_<NAME> (e.g. TWIN_IMAGE_POSTGRES=registry.corp/mirror/postgres:17.6)
 * or all Docker Hub ones at once with TWIN_IMAGE_MIRROR (a registry/path prefix).
 */
export const PINNED_IMAGES = {
  localstack: 'localstack/localstack:4.14.0',
  kafka: 'confluentinc/cp-kafka:7.9.2',
  postgres: 'postgres:17.6-bookworm',
  redis: 'redis:7.4.5-bookworm',
  toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0',
} as const;

export type ContainerName = keyof typeof PINNED_IMAGES;

/** The last LocalStack tag that starts without an auth token (later ones need LOCALSTACK_AUTH_TOKEN). */
export const LOCALSTACK_LAST_FREE = '4.14.0';

export function imageFor(
  name: ContainerName,
  env: NodeJS.ProcessEnv = process.env,
  config: Partial<Record<ContainerName, string>> = {},
): string {
  const override = env[`TWIN_IMAGE_${name.toUpperCase()}`] ?? config[name];
  if (override) return override;
  const pinned = PINNED_IMAGES[name];
  const mirror = env['TWIN_IMAGE_MIRROR']?.replace(/\/+$/, '');
  // Only Docker Hub names (no registry host in the first path part) move to the mirror.
  if (mirror && !pinned.split('/')[0]!.includes('.')) return `${mirror}/${pinned}`;
  return pinned;
}

/** "4.14.0" → [4, 14, 0]; undefined for tags that are not versions (latest, stable). */
function versionOf(tag: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(tag);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function newer(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

/**
 * LocalStack's environment: the auth token is passed through when set; an image after 4.14.0 (or an
 * unversioned tag such as latest) without one is refused with a message saying what to set.
 */
export function localstackEnvironment(
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const token = env['LOCALSTACK_AUTH_TOKEN'];
  const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : 'latest';
  const version = versionOf(tag);
  const needsToken = !version || newer(version, versionOf(LOCALSTACK_LAST_FREE)!);
  if (needsToken && !token)
    throw new TwinError(
      'TWIN_ENV_UNAVAILABLE',
      `LocalStack image ${image} needs LOCALSTACK_AUTH_TOKEN (tags after ${LOCALSTACK_LAST_FREE} do); set it, or use ${PINNED_IMAGES.localstack} (TWIN_IMAGE_LOCALSTACK)`,
    );
  return token ? { LOCALSTACK_AUTH_TOKEN: token } : {};
}
