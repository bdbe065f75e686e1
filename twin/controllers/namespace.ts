import type { KubeObject } from '../../kube/object.ts';
import type { WatchEvent, WatchFilter } from '../store/object-store.ts';
import { ReconcileController } from './controller.ts';

const NAMESPACE_FINALIZER = 'kubernetes';

/**
 * The namespace lifecycle: new Namespaces get the `kubernetes` finalizer, phase Active and the
 * `kubernetes.io/metadata.name` label (the API server's defaulting and NamespaceDefaultLabelName
 * admission); a deleted Namespace is Terminating until the namespace controller has deleted every
 * object in it, then its finalizer is removed and it goes.
 * See https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/ and
 * https://kubernetes.io/docs/tasks/administer-cluster/namespaces/#deleting-a-namespace
 */
export class NamespaceController extends ReconcileController {
  readonly name = 'namespace-controller';
  private removeAdmission: (() => void) | undefined;

  protected watches(): Array<{ filter: WatchFilter; keys: (event: WatchEvent) => string[] }> {
    return [
      {
        filter: { kind: 'Namespace' },
        keys: (e) =>
          e.object.metadata.deletionTimestamp || e.type === 'DELETED' ? [`/${e.object.metadata.name}`] : [],
      },
    ];
  }

  protected override onStart(): void {
    this.removeAdmission = this.ctx.store.addAdmission((obj) => {
      if (obj.kind !== 'Namespace' || obj.apiVersion !== 'v1') return;
      obj.metadata.labels = {
        ...(obj.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': obj.metadata.name,
      };
      obj.spec = { ...(obj.spec ?? {}), finalizers: obj.spec?.finalizers ?? [NAMESPACE_FINALIZER] };
      obj.status = { ...(obj.status ?? {}), phase: obj.status?.phase ?? 'Active' };
    });
    for (const ns of this.ctx.store.list({ kind: 'Namespace' }))
      if (ns.metadata.deletionTimestamp) this.enqueue(`/${ns.metadata.name}`);
  }

  override stop(): void {
    this.removeAdmission?.();
    super.stop();
  }

  protected reconcile(key: string): void {
    const { store } = this.ctx;
    const name = key.slice(1);
    const ns = store.get({ kind: 'Namespace', name });
    if (ns && !ns.metadata.deletionTimestamp) return;
    let left = 0;
    for (const type of store.types()) {
      for (const obj of store.listShared(type, { namespace: name })) {
        if (obj.metadata.namespace !== name) continue;
        if (!obj.metadata.deletionTimestamp)
          store.delete({
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            namespace: name,
            name: obj.metadata.name,
          });
        if (
          store.peek({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: name, name: obj.metadata.name })
        )
          left++;
      }
    }
    if (!ns) return;
    if (left > 0) {
      // Objects held by finalizers: check again until they are gone.
      this.enqueueAfter(key, 5_000);
      return;
    }
    store.patch({ kind: 'Namespace', name }, (n: KubeObject) => {
      n.spec = {
        ...(n.spec ?? {}),
        finalizers: (n.spec?.finalizers ?? []).filter((f: string) => f !== NAMESPACE_FINALIZER),
      };
    });
  }
}
