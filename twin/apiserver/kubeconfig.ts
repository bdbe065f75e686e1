import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export const KUBECONFIG_CONTEXT = 'infra-twin';

/**
 * A kubeconfig for the twin's API server: one cluster (the server URL and the CA that signed its
 * certificate), one user (a client certificate of group system:masters, i.e. cluster-admin), one
 * context, current. Written with mode 0600: it holds the user's key.
 */
export function kubeconfigText(options: {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  namespace?: string;
}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [
      {
        name: KUBECONFIG_CONTEXT,
        cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) },
      },
    ],
    users: [
      {
        name: 'twin-admin',
        user: {
          'client-certificate-data': b64(options.clientCertPem),
          'client-key-data': b64(options.clientKeyPem),
        },
      },
    ],
    contexts: [
      {
        name: KUBECONFIG_CONTEXT,
        context: {
          cluster: KUBECONFIG_CONTEXT,
          user: 'twin-admin',
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': KUBECONFIG_CONTEXT,
  });
}

export async function writeKubeconfig(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
}
