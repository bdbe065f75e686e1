/**
 * Orders API versions as Kubernetes does for discovery (the first is preferred): GA before beta
 * before alpha, higher major first, then higher minor; versions not of that form last, by name.
 * See https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/#version-priority
 */
export function compareVersionPriority(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa && pb) {
    if (pa.stage !== pb.stage) return pa.stage - pb.stage;
    if (pa.major !== pb.major) return pb.major - pa.major;
    return pb.minor - pa.minor;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a.localeCompare(b);
}

function parse(v: string): { stage: number; major: number; minor: number } | undefined {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return undefined;
  return {
    stage: m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2,
    major: Number(m[1]),
    minor: m[3] === undefined ? 0 : Number(m[3]),
  };
}
