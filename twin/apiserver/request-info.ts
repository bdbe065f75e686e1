/**
 * What a request path names, as the API server's RequestInfoFactory reads it:
 * `/api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]` and the same under
 * `/apis/<group>/<version>`; anything else is a non-resource path (`/version`, `/openapi/v3`, …).
 */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** get, list, watch, create, update, patch, delete, deletecollection (HTTP verb for non-resource paths). */
  verb: string;
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
}

const VERBS: Record<string, string> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    group: '',
    version: '',
    namespace: '',
    resource: '',
    name: '',
    subresource: '',
  };
  const parts = path.split('/').filter((p) => p !== '');
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    info.version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    info.group = parts[1]!;
    info.version = parts[2]!;
    rest = parts.slice(3);
  } else return info;
  info.isResourceRequest = true;
  info.verb = VERBS[method] ?? method.toLowerCase();
  // /namespaces/<ns>/<resource>…, except the namespace object itself (/namespaces/<name>[/status|/finalize]).
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')) {
      info.resource = 'namespaces';
      info.name = rest[1]!;
      info.subresource = rest[2]!;
    } else {
      info.namespace = rest[1]!;
      rest = rest.slice(2);
      info.resource = rest[0]!;
      info.name = rest[1] ?? '';
      info.subresource = rest.slice(2).join('/');
    }
  } else {
    info.resource = rest[0]!;
    info.name = rest[1] ?? '';
    info.subresource = rest.slice(2).join('/');
    if (info.resource === 'namespaces' && info.name) info.namespace = info.name;
  }
  if (!info.name) {
    if (info.verb === 'get') info.verb = 'list';
    if (info.verb === 'delete') info.verb = 'deletecollection';
  }
  if ((info.verb === 'list' || info.verb === 'get') && isTrue(query.get('watch'))) info.verb = 'watch';
  return info;
}

export function isTrue(v: string | null | undefined): boolean {
  return v === 'true' || v === '1';
}
