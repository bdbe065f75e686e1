import { readFileSync } from 'node:fs';
import https from 'node:https';
import { containerFile } from '../lib/container-file.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** One function of GET /system/functions (faas-provider's FunctionStatus, the fields the API server can tell). */
export interface FunctionStatus {
  name: string;
  image: string;
  namespace: string;
  replicas: number;
  availableReplicas: number;
  envProcess?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * The functions of a namespace as faas-netes lists them: its Deployments labelled faas_function, read
 * from the Kubernetes API with the pod's in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT, the
 * service account's token and ca.crt; RBAC must let it list deployments there).
 * invocationCount is left out: OpenFaaS fills it from its Prometheus, which this system does not deploy.
 */
export async function listFunctions(namespace: string, env: NodeJS.ProcessEnv): Promise<FunctionStatus[]> {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port)
    throw new Error(
      'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: no in-cluster configuration',
    );
  const token = readFileSync(containerFile(`${SERVICE_ACCOUNT_DIR}/token`, env), 'utf8').trim();
  const ca = readFileSync(containerFile(`${SERVICE_ACCOUNT_DIR}/ca.crt`, env));
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments?labelSelector=faas_function`;
  const list = await new Promise<any>((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: Number(port),
        path,
        ca,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200)
            reject(new Error(`listing deployments in ${namespace}: ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    req.setTimeout(5000, () =>
      req.destroy(new Error(`listing deployments in ${namespace}: no answer in 5 s`)),
    );
    req.on('error', reject);
    req.end();
  });
  return (list.items ?? []).map((d: any): FunctionStatus => {
    const c = d.spec?.template?.spec?.containers?.[0] ?? {};
    const fprocess = (c.env ?? []).find((e: { name: string }) => e.name === 'fprocess')?.value;
    return {
      name: d.metadata.name,
      image: c.image ?? '',
      namespace: d.metadata.namespace,
      replicas: d.spec?.replicas ?? 0,
      availableReplicas: d.status?.availableReplicas ?? 0,
      ...(fprocess ? { envProcess: fprocess } : {}),
      labels: d.spec?.template?.metadata?.labels ?? {},
      annotations: d.metadata.annotations ?? {},
    };
  });
}
