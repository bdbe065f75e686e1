import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../../kube/object.ts';
import type { HistoryEntry } from '../store/event-history.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { type ListQuery, matchesQuery } from './list-query.ts';
import type { StatusError } from './status-error.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** How a watch writes an object (the resource's view at the requested version, or a Table row). */
export type EventEncoder = (type: WatchEventType, obj: Readonly<KubeObject>) => string;

/** A watch stream buffering more than this is too slow to follow: it is ended, and its client watches again from its last resourceVersion. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

interface Watcher {
  typeKey: string;
  namespace: string | undefined;
  query: ListQuery;
  res: ServerResponse;
  encode: EventEncoder;
  /** Encodings shared by watchers that write the same way (one JSON.stringify per event and encoding). */
  encoding: string;
  closed: boolean;
  close(): void;
}

/**
 * The API server's watches: every change of the store goes, in commit order, to the watches of its
 * type whose namespace and selectors it matches (an object that stops matching a selector is
 * DELETED for that watch, one that starts matching ADDED, as the watch cache does). Events are
 * encoded once per encoding and written as newline-separated JSON to the chunked response.
 */
export class WatchHub {
  private readonly byType = new Map<string, Set<Watcher>>();
  private readonly stopObserving: () => void;
  private encoded = new WeakMap<object, Map<string, string>>();

  constructor(private readonly store: ObjectStore) {
    this.stopObserving = store.observe((e) => this.dispatch(e));
  }

  get size(): number {
    let n = 0;
    for (const s of this.byType.values()) n += s.size;
    return n;
  }

  stop(): void {
    this.stopObserving();
    for (const set of this.byType.values()) for (const w of set) w.close();
    this.byType.clear();
  }

  /**
   * Starts a watch on `res`: the initial events (ADDED for every matching object when the watch
   * starts at "any"/latest state, or the history after `fromRevision`), then every change.
   * `bookmarkMs` sends BOOKMARK events when the client allows them; `initialEventsEnd` marks the end
   * of the initial events with the `k8s.io/initial-events-end` bookmark (sendInitialEvents).
   */
  start(options: {
    res: ServerResponse;
    typeKey: string;
    namespace: string | undefined;
    query: ListQuery;
    encode: EventEncoder;
    encoding: string;
    fromRevision: number | undefined;
    bookmarkMs: number;
    bookmarkObject: (revision: string, initialEnd: boolean) => Readonly<KubeObject>;
    tooOld: (revision: number) => StatusError;
  }): void {
    const { res, typeKey, query } = options;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    res.socket?.setNoDelay(true);
    res.flushHeaders();
    let timer: NodeJS.Timeout | undefined;
    let timeout: NodeJS.Timeout | undefined;
    const w: Watcher = {
      typeKey,
      namespace: options.namespace,
      query,
      res,
      encode: options.encode,
      encoding: options.encoding,
      closed: false,
      close: () => {
        if (w.closed) return;
        w.closed = true;
        clearInterval(timer);
        clearTimeout(timeout);
        this.byType.get(typeKey)?.delete(w);
        if (!res.writableEnded) res.end();
      },
    };
    res.on('close', () => w.close());
    // Subscribed before the initial events are written: the store is synchronous, so none falls between.
    let set = this.byType.get(typeKey);
    if (!set) {
      set = new Set();
      this.byType.set(typeKey, set);
    }
    set.add(w);
    if (options.fromRevision === undefined) {
      for (const o of this.store.listShared(
        typeKey,
        options.namespace ? { namespace: options.namespace } : {},
      ))
        if (matchesQuery(o as KubeObject, query, options.namespace)) this.write(w, 'ADDED', o);
      if (query.sendInitialEvents && query.allowWatchBookmarks)
        this.write(w, 'BOOKMARK', options.bookmarkObject(this.store.resourceVersion, true));
    } else {
      const after = this.store.history.since(options.fromRevision, (e) => e.typeKey === typeKey);
      if (!after) {
        this.write(w, 'ERROR', options.tooOld(options.fromRevision).toStatus() as unknown as KubeObject);
        w.close();
        return;
      }
      for (const e of after) this.deliver(w, e);
    }
    if (query.allowWatchBookmarks && options.bookmarkMs > 0)
      timer = setInterval(
        () => this.write(w, 'BOOKMARK', options.bookmarkObject(this.store.resourceVersion, false)),
        options.bookmarkMs,
      );
    if (query.timeoutSeconds !== undefined && query.timeoutSeconds > 0)
      timeout = setTimeout(() => w.close(), query.timeoutSeconds * 1000);
  }

  private dispatch(e: HistoryEntry): void {
    const set = this.byType.get(e.typeKey);
    if (!set) return;
    for (const w of set) this.deliver(w, e);
  }

  private deliver(w: Watcher, e: HistoryEntry): void {
    if (w.closed) return;
    const ns = w.namespace;
    const now = matchesQuery(e.object, w.query, ns);
    if (e.type === 'MODIFIED' && e.oldObject) {
      const before = matchesQuery(e.oldObject, w.query, ns);
      if (now && before) this.write(w, 'MODIFIED', e.object);
      else if (now) this.write(w, 'ADDED', e.object);
      else if (before) {
        // Stopped matching: the watch sees it go, at the change's resourceVersion.
        const gone = {
          ...e.oldObject,
          metadata: { ...e.oldObject.metadata, resourceVersion: e.object.metadata.resourceVersion },
        };
        this.write(w, 'DELETED', gone, false);
      }
      return;
    }
    if (now) this.write(w, e.type, e.object);
  }

  private write(w: Watcher, type: WatchEventType, obj: Readonly<KubeObject>, cache = true): void {
    if (w.closed) return;
    let line: string | undefined;
    if (cache && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
      let byEncoding = this.encoded.get(obj);
      if (!byEncoding) {
        byEncoding = new Map();
        this.encoded.set(obj, byEncoding);
      }
      const key = `${type}\u0000${w.encoding}`;
      line = byEncoding.get(key);
      if (line === undefined) {
        line = w.encode(type, obj);
        byEncoding.set(key, line);
      }
    } else line = w.encode(type, obj);
    w.res.write(line);
    if (w.res.writableLength > MAX_BUFFERED_BYTES) w.close();
  }
}
