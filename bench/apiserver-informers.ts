/**
 * The informer side of `npm run bench -- apiserver` (a child process, so that clients and server do not
 * share one event loop): `namespaces × perNamespace` client-node informers (list + watch of the
 * ConfigMaps of one namespace each). Prints `READY <ms>` once every informer has listed and is
 * watching; on a `CHECK <expected>` line (namespace → name → resourceVersion) waits until every cache
 * holds exactly that and prints the result as JSON.
 */
import { createInterface } from 'node:readline';
import { CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';

const [kubeconfig, namespacesArg, perArg] = process.argv.slice(2);
const namespaces = Number(namespacesArg);
const per = Number(perArg);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig!);
const core = kc.makeApiClient(CoreV1Api);

interface Tracked {
  namespace: string;
  informer: ReturnType<typeof makeInformer<V1ConfigMap>>;
  updates: number;
  errors: number;
}
const tracked: Tracked[] = [];
const t0 = performance.now();
const starts: Promise<void>[] = [];
for (let n = 0; n < namespaces; n++) {
  const namespace = `bench-${n}`;
  for (let i = 0; i < per; i++) {
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace }),
    );
    const t: Tracked = { namespace, informer, updates: 0, errors: 0 };
    informer.on('update', () => t.updates++);
    informer.on('error', () => {
      t.errors++;
      // As a controller would: start again after an error (the informer relists).
      setTimeout(() => void informer.start().catch(() => {}), 500);
    });
    tracked.push(t);
    starts.push(informer.start());
  }
}
await Promise.all(starts);
process.stdout.write(`READY ${(performance.now() - t0).toFixed(0)}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  if (!line.startsWith('CHECK ')) return;
  const { expected, updatesPerNamespace } = JSON.parse(line.slice(6)) as {
    expected: Record<string, Record<string, string>>;
    updatesPerNamespace: Record<string, number>;
  };
  const c0 = performance.now();
  const matches = (t: Tracked) => {
    const want = expected[t.namespace] ?? {};
    const have = t.informer.list(t.namespace);
    if (have.length !== Object.keys(want).length) return false;
    return have.every((o) => want[o.metadata!.name!] === o.metadata!.resourceVersion);
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !tracked.every(matches)) await new Promise((r) => setTimeout(r, 20));
  const converged = tracked.filter(matches).length;
  const exact = tracked.filter((t) => t.updates === (updatesPerNamespace[t.namespace] ?? 0)).length;
  const off = tracked.filter((t) => t.updates !== (updatesPerNamespace[t.namespace] ?? 0));
  if (off.length > 0)
    process.stderr.write(
      `informers that did not count every update: ${off
        .slice(0, 10)
        .map((t) => `${t.namespace} ${t.updates}/${updatesPerNamespace[t.namespace] ?? 0}`)
        .join(', ')}\n`,
    );
  process.stdout.write(
    `${JSON.stringify({
      informers: tracked.length,
      converged,
      convergeMs: Math.round(performance.now() - c0),
      everyUpdateSeen: exact,
      errors: tracked.reduce((a, t) => a + t.errors, 0),
    })}\n`,
  );
  await Promise.all(tracked.map((t) => t.informer.stop()));
  process.exit(0);
});
