import type { HeaderMatch, Route, RouteMatch, StringMatch } from './route-table.ts';

/** What a route matches on. */
export interface RequestFacts {
  method: string;
  /** The path with its query string, as on the request line. */
  url: string;
  /** Lower-cased header names; repeated headers joined with ','. */
  headers: Record<string, string | undefined>;
  authority: string;
}

export function stringMatches(m: StringMatch, value: string): boolean {
  if ('regex' in m) return fullMatch(m.regex, value);
  const ci = m.ignoreCase === true;
  const v = ci ? value.toLowerCase() : value;
  const norm = (s: string) => (ci ? s.toLowerCase() : s);
  if ('exact' in m) return v === norm(m.exact);
  if ('prefix' in m) return v.startsWith(norm(m.prefix));
  if ('suffix' in m) return v.endsWith(norm(m.suffix));
  return v.includes(norm(m.contains));
}

const REGEX_CACHE = new Map<string, RegExp>();

/** RE2 in Envoy and Istio matches the whole value (Envoy safe_regex, Istio "regex": RE2 full match). */
function fullMatch(pattern: string, value: string): boolean {
  let re = REGEX_CACHE.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`);
    REGEX_CACHE.set(pattern, re);
  }
  return re.test(value);
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function headerMatches(h: HeaderMatch, facts: RequestFacts): boolean {
  const name = h.name.toLowerCase();
  const value =
    name === ':method'
      ? facts.method
      : name === ':path'
        ? facts.url
        : name === ':authority'
          ? facts.authority
          : facts.headers[name];
  const ok = value !== undefined && (h.value === undefined || stringMatches(h.value, value));
  return h.invert ? !ok : ok;
}

export function routeMatches(m: RouteMatch, facts: RequestFacts): boolean {
  if (m.path && !stringMatches(m.path, pathOf(facts.url))) return false;
  if (m.method && !stringMatches(m.method, facts.method)) return false;
  if (m.authority && !stringMatches(m.authority, facts.authority)) return false;
  for (const h of m.headers ?? []) if (!headerMatches(h, facts)) return false;
  if (m.queryParams) {
    const q = new URLSearchParams(facts.url.includes('?') ? facts.url.slice(facts.url.indexOf('?') + 1) : '');
    for (const p of m.queryParams) {
      const v = q.get(p.name);
      if (v === null) return false;
      if (p.value && !stringMatches(p.value, v)) return false;
    }
  }
  return true;
}

/** The first route that matches, in order, as Envoy and Istio evaluate them, and the condition that matched. */
export function selectRoute(
  routes: readonly Route[],
  facts: RequestFacts,
): { route: Route; match: RouteMatch | undefined } | undefined {
  for (const route of routes) {
    if (route.matches.length === 0) return { route, match: undefined };
    const match = route.matches.find((m) => routeMatches(m, facts));
    if (match) return { route, match };
  }
  return undefined;
}
