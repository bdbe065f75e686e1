import type { ServedResource } from '../../kube/api/resource-registry.ts';
import {
  LabelSelectorSyntaxError,
  matchesRequirements,
  parseLabelSelector,
} from '../../kube/label-selector-string.ts';
import type { LabelSelectorRequirement } from '../../kube/labels.ts';
import { type KubeObject, objectKey } from '../../kube/object.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { fieldMatcher, parseFieldSelector } from './field-selector.ts';
import { badRequest, gone, StatusError } from './status-error.ts';

/** The query of a list or watch: selectors, paging, resourceVersion semantics. */
export interface ListQuery {
  labels: LabelSelectorRequirement[];
  fields: (obj: KubeObject) => boolean;
  hasSelectors: boolean;
  limit: number;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: 'NotOlderThan' | 'Exact' | undefined;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  timeoutSeconds: number | undefined;
}

export function parseListQuery(r: ServedResource, q: URLSearchParams): ListQuery {
  let labels: LabelSelectorRequirement[] = [];
  try {
    labels = parseLabelSelector(q.get('labelSelector') ?? '');
  } catch (err) {
    if (err instanceof LabelSelectorSyntaxError) throw badRequest(err.message);
    throw err;
  }
  const fieldReqs = parseFieldSelector(q.get('fieldSelector') ?? '');
  const limit = Number(q.get('limit') ?? 0);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit: Invalid value: "${q.get('limit')}"`);
  const match = q.get('resourceVersionMatch') ?? undefined;
  const rv = q.get('resourceVersion') ?? undefined;
  if (match !== undefined && match !== 'NotOlderThan' && match !== 'Exact')
    throw badRequest(
      `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
    );
  const sendInitial = q.get('sendInitialEvents');
  if (match && !rv && sendInitial !== 'true')
    throw badRequest(
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    );
  if (match === 'Exact' && rv === '0')
    throw badRequest(
      'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    );
  const cont = q.get('continue') || undefined;
  if (cont && rv && rv !== '')
    throw badRequest('specifying resource version is not allowed when using continue');
  const timeout = q.get('timeoutSeconds');
  return {
    labels,
    fields: fieldMatcher(r, fieldReqs),
    hasSelectors: labels.length > 0 || fieldReqs.length > 0,
    limit,
    continueToken: cont,
    resourceVersion: rv,
    resourceVersionMatch: match as ListQuery['resourceVersionMatch'],
    allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
    sendInitialEvents: sendInitial === null ? undefined : sendInitial === 'true',
    timeoutSeconds: timeout === null ? undefined : Number(timeout),
  };
}

export function matchesQuery(obj: KubeObject, q: ListQuery, namespace: string | undefined): boolean {
  if (namespace && obj.metadata.namespace !== namespace) return false;
  return matchesRequirements(q.labels, obj.metadata.labels ?? {}) && q.fields(obj);
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start } satisfies ContinueToken)).toString(
    'base64url',
  );
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string')
      throw new Error();
    return t;
  } catch {
    throw badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
}

/**
 * The objects of a type as they were at `revision`, rebuilt from the current ones by undoing the
 * history after it (410 Gone when that history was compacted away).
 */
export function snapshotAt(
  store: ObjectStore,
  typeKey: string,
  revision: number,
  message: string,
): Map<string, KubeObject> {
  const current = new Map<string, KubeObject>(
    store.listShared(typeKey).map((o) => [objectKey(o), o as KubeObject]),
  );
  if (revision >= store.currentRevision) return current;
  const after = store.history.since(revision, (e) => e.typeKey === typeKey);
  if (!after) throw gone(message);
  for (let i = after.length - 1; i >= 0; i--) {
    const e = after[i]!;
    const key = objectKey(e.object);
    if (e.type === 'ADDED') current.delete(key);
    else if (e.oldObject) current.set(key, e.oldObject);
  }
  return current;
}

export interface ListPage {
  items: Readonly<KubeObject>[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

const TOO_OLD_LIST = 'The resourceVersion for the provided list is too old.';
const TOO_OLD_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/**
 * One page of a list with the API's resourceVersion semantics: unset or "0" reads the latest state;
 * `Exact` (and a resourceVersion with `limit`, the legacy paging form) reads the state at that
 * revision; `NotOlderThan` (the default otherwise) reads the latest, refusing a revision the store has
 * not reached (504, "Too large resource version"). `continue` pages at the first page's revision.
 * See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
 */
export function listPage(
  store: ObjectStore,
  typeKey: string,
  namespace: string | undefined,
  q: ListQuery,
): ListPage {
  let revision = store.currentRevision;
  let start = '';
  let objects: Readonly<KubeObject>[];
  if (q.continueToken) {
    const t = decodeContinue(q.continueToken);
    revision = t.rv;
    start = t.start;
    objects = [...snapshotAt(store, typeKey, revision, TOO_OLD_CONTINUE).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
  } else {
    const rv = q.resourceVersion;
    const exact =
      q.resourceVersionMatch === 'Exact' || (rv && rv !== '0' && q.limit > 0 && !q.resourceVersionMatch);
    if (rv && rv !== '0') {
      const wanted = Number(rv);
      if (!Number.isInteger(wanted) || wanted < 0)
        throw badRequest(`Invalid value: "${rv}": resourceVersion must be an integer`);
      if (wanted > store.currentRevision)
        throw new StatusError(
          504,
          'Timeout',
          `Timeout: Too large resource version: ${wanted}, current: ${store.currentRevision}`,
          {
            causes: [{ reason: 'ResourceVersionTooLarge', message: `Too large resource version` }],
            retryAfterSeconds: 1,
          },
        );
      if (exact) revision = wanted;
    }
    objects =
      revision === store.currentRevision
        ? store.listShared(typeKey, namespace ? { namespace } : {})
        : [...snapshotAt(store, typeKey, revision, TOO_OLD_LIST).entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([, o]) => o);
  }
  const items: Readonly<KubeObject>[] = [];
  let next: string | undefined;
  let remaining = 0;
  for (const o of objects) {
    const key = objectKey(o);
    if (start && key <= start) continue;
    if (!matchesQuery(o as KubeObject, q, namespace)) continue;
    if (q.limit > 0 && items.length >= q.limit) {
      remaining++;
      continue;
    }
    items.push(o);
    if (q.limit > 0 && items.length === q.limit) next = key;
  }
  const page: ListPage = { items, resourceVersion: String(revision) };
  if (next !== undefined && remaining > 0) {
    page.continueToken = encodeContinue(revision, next);
    if (!q.hasSelectors) page.remainingItemCount = remaining;
  }
  return page;
}
