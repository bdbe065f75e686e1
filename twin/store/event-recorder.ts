import type { Clock } from '../../kube/clock.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { ObjectStore } from './object-store.ts';

export type EventType = 'Normal' | 'Warning';

/**
 * Records core/v1 Events about objects, as controllers do through client-go's EventRecorder: the
 * scenario timeline is read from these Events, so they are the one channel for "what happened".
 */
export class EventRecorder {
  private seq = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  record(involved: KubeObject, type: EventType, reason: string, message: string, component = 'twin'): void {
    const ts = new Date(this.clock.now()).toISOString();
    const ns = involved.metadata.namespace ?? 'default';
    this.store.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${involved.metadata.name}.${(++this.seq).toString(16).padStart(8, '0')}`,
        namespace: ns,
      },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        namespace: involved.metadata.namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
      },
      type,
      reason,
      message,
      source: { component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    });
  }
}
