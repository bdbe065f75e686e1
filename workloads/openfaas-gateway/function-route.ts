/** What a /function/<name>/<rest> or /async-function/<name>/<rest> path names. */
export interface FunctionRoute {
  async: boolean;
  /** The function as written (`name` or `name.namespace`). */
  service: string;
  name: string;
  namespace: string | undefined;
  /** The rest of the path, passed to the function ("" for none). */
  path: string;
}

/** As the gateway's functionMatcher: `^/?(?:async-)?function/([^/?]+)([^?]*)`; a dot splits name and namespace at its last occurrence. */
export function functionRoute(pathname: string): FunctionRoute | undefined {
  const m = /^\/?(async-)?function\/([^/?]+)([^?]*)/.exec(pathname);
  if (!m) return undefined;
  const service = decodeURIComponent(m[2]!);
  const dot = service.lastIndexOf('.');
  return {
    async: m[1] !== undefined,
    service,
    name: dot > 0 ? service.slice(0, dot) : service,
    namespace: dot > 0 ? service.slice(dot + 1) : undefined,
    path: m[3] ?? '',
  };
}

/**
 * The function's base URL with direct_functions: the function name as a host under
 * direct_functions_suffix, on the watchdog's port 8080 (FunctionAsHostBaseURLResolver). A
 * `name.namespace` function keeps its namespace and gets the cluster suffix instead.
 */
export function functionBaseUrl(route: FunctionRoute, suffix: string): string {
  const host = route.namespace
    ? `${route.name}.${route.namespace}.svc.cluster.local`
    : `${route.name}${suffix ? `.${suffix}` : ''}`;
  return `http://${host}:8080`;
}
