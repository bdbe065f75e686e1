import type { KubeObject } from '../../kube/object.ts';

export interface HistoryEntry {
  /** The resourceVersion of the change. */
  revision: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** Group-qualified kind ("apps/Deployment"). */
  typeKey: string;
  /** The stored object after the change (shared, never changed). */
  object: KubeObject;
  oldObject?: KubeObject;
}

/**
 * The last `limit` changes of the store, oldest first: what a watch from a resourceVersion replays,
 * as the API server's watch cache does. Older resourceVersions are compacted away; a watch or a list
 * at one of them gets 410 Gone.
 */
export class EventHistory {
  private readonly ring: (HistoryEntry | undefined)[];
  private start = 0;
  private size = 0;
  /** Revisions up to this one are no longer in the history (0: nothing was ever dropped). */
  private compactedThrough = 0;

  constructor(readonly limit: number) {
    this.ring = new Array(Math.max(1, limit));
  }

  add(entry: HistoryEntry): void {
    const cap = this.ring.length;
    if (this.size === cap) {
      this.compactedThrough = this.ring[this.start]!.revision;
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % cap;
    } else {
      this.ring[(this.start + this.size) % cap] = entry;
      this.size++;
    }
  }

  /** The oldest resourceVersion a watch may start from: every change after it is still here. */
  get oldestResumable(): number {
    return this.compactedThrough;
  }

  /**
   * The changes after `revision`, oldest first, or undefined when some of them were compacted away
   * (the caller answers 410 Gone).
   */
  since(revision: number, filter?: (e: HistoryEntry) => boolean): HistoryEntry[] | undefined {
    if (revision < this.compactedThrough) return undefined;
    const cap = this.ring.length;
    // Binary search for the first entry after `revision` (revisions increase along the ring).
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[(this.start + mid) % cap]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    const out: HistoryEntry[] = [];
    for (let i = lo; i < this.size; i++) {
      const e = this.ring[(this.start + i) % cap]!;
      if (!filter || filter(e)) out.push(e);
    }
    return out;
  }
}
