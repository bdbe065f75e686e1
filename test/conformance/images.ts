/**
 * The container images the cases run, per environment. A case never names an image itself, and
 * never relies on the twin's `twin.dev/…` annotations: what it observes is what a cluster does.
 */
export interface ConformanceImages {
  /** Runs until it is stopped and serves nothing: pods whose lifecycle, not behaviour, is under test. */
  longRunning: string;
  /** A shell (`sh -c …`): Jobs with real exit codes, logs and sleeps. */
  shell: string;
  /**
   * agnhost, run as `netexec --http-port=N --udp-port=-1`: an HTTP server on a port of the pod, and a
   * shell with bash and `timeout` that `env.net.canConnect` connects from on a cluster (the
   * NetworkPolicy cases, as the upstream e2e tests use it).
   */
  netexec: string;
}

/**
 * - `local`: `pause` has no twin binding, so it is emulated (it runs, holds its requests, serves
 *   nothing, never exits: exactly what pause does). `busybox` is bound to the machine's own `sh` by
 *   test/fixtures/systems/conformance/twin-bindings.yaml, so `sh -c "exit 3"` really exits 3, and
 *   agnhost to a Node.js implementation of its `netexec` subcommand
 *   (test/fixtures/systems/conformance/workloads/agnhost.ts), so its pods really serve and connect.
 * - `k3d`: the same small public images, pulled by the cluster's nodes.
 * A team's mirror: TWIN_CONFORMANCE_IMAGE_MIRROR=registry.corp/mirror prefixes each on k3d.
 */
export const IMAGES: Record<'local' | 'k3d', ConformanceImages> = {
  local: {
    longRunning: 'registry.k8s.io/pause:3.10',
    shell: 'busybox:1.37',
    netexec: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
  },
  k3d: {
    longRunning: 'registry.k8s.io/pause:3.10',
    shell: 'busybox:1.37',
    netexec: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
  },
};

export function imagesFor(environment: string, env: NodeJS.ProcessEnv = process.env): ConformanceImages {
  const images = IMAGES[environment as keyof typeof IMAGES];
  if (!images) throw new Error(`no conformance images for environment ${environment}`);
  const mirror = env['TWIN_CONFORMANCE_IMAGE_MIRROR'];
  if (environment !== 'k3d' || !mirror) return images;
  const strip = (image: string) => image.replace(/^registry\.k8s\.io\//, '');
  return {
    longRunning: `${mirror}/${strip(images.longRunning)}`,
    shell: `${mirror}/${strip(images.shell)}`,
    netexec: `${mirror}/${strip(images.netexec)}`,
  };
}
