import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { ReconcileController } from './controller.ts';

/**
 * kube-controller-manager's serviceaccount controller and root-ca-cert-publisher: every Namespace
 * has a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap holding the cluster CA (what
 * projected service account volumes read `ca.crt` from).
 * See https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#serviceaccount-controller
 */
export class ServiceAccountController extends ReconcileController {
  readonly name = 'serviceaccount-controller';

  constructor(private readonly caPem: string) {
    super();
  }

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      {
        filter: { kind: 'Namespace' },
        keys: (e) => (e.type === 'DELETED' ? [] : [`/${e.object.metadata.name}`]),
      },
      {
        filter: { kind: 'ServiceAccount' },
        keys: (e) =>
          e.type === 'DELETED' && e.object.metadata.name === 'default'
            ? [`/${e.object.metadata.namespace}`]
            : [],
      },
      {
        filter: { kind: 'ConfigMap' },
        keys: (e) =>
          e.object.metadata.name === 'kube-root-ca.crt' && e.type !== 'ADDED'
            ? [`/${e.object.metadata.namespace}`]
            : [],
      },
    ];
  }

  protected override onStart(): void {
    this.enqueue(...this.ctx.store.list({ kind: 'Namespace' }).map((n) => `/${n.metadata.name}`));
  }

  protected reconcile(key: string): void {
    const { store } = this.ctx;
    const ns = key.slice(1);
    const namespace = store.peek({ kind: 'Namespace', name: ns });
    if (!namespace || namespace.metadata.deletionTimestamp) return;
    if (!store.peek({ kind: 'ServiceAccount', namespace: ns, name: 'default' }))
      store.create({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: ns },
      });
    const cm = store.peek({ kind: 'ConfigMap', namespace: ns, name: 'kube-root-ca.crt' });
    const data = { 'ca.crt': this.caPem };
    if (!cm)
      store.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kube-root-ca.crt',
          namespace: ns,
          annotations: {
            'kubernetes.io/description':
              'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
          },
        },
        data,
      });
    else if ((cm['data'] as Record<string, string> | undefined)?.['ca.crt'] !== this.caPem)
      store.patch({ kind: 'ConfigMap', namespace: ns, name: 'kube-root-ca.crt' }, (o) => {
        o['data'] = data;
      });
  }
}
