import { TwinError } from '../../core/errors.ts';

export const ALB_ACTION_PREFIX = 'alb.ingress.kubernetes.io/actions.';
/** The service port name that makes a backend read its action from the annotation. */
export const USE_ANNOTATION = 'use-annotation';

export interface TargetGroup {
  serviceName: string;
  servicePort: number | string;
  weight: number;
}

export type AlbAction =
  | { type: 'forward'; targetGroups: TargetGroup[] }
  | { type: 'fixed-response'; statusCode: number; contentType: string; messageBody: string };

/**
 * Parses an `alb.ingress.kubernetes.io/actions.<name>` annotation of the AWS Load Balancer
 * Controller. The LBC docs write keys in camelCase (`forwardConfig.targetGroups[].serviceName`);
 * Argo Rollouts writes them in PascalCase (`ForwardConfig.TargetGroups[].ServiceName`): both are read.
 *
 * Twin simplification: forward (with target groups by Service) and fixed-response only; targetGroupARN,
 * redirect actions and target group stickiness are not modelled.
 */
export function parseAlbAction(json: string, where: string): AlbAction {
  let raw: any;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new TwinError(
      'TWIN_INVALID',
      `${where}: the annotation is not valid JSON (${(err as Error).message}); write a JSON forward action`,
    );
  }
  const type = pick(raw, 'type');
  if (type === 'fixed-response') {
    const cfg = pick(raw, 'fixedResponseConfig') ?? {};
    return {
      type,
      statusCode: Number(pick(cfg, 'statusCode') ?? 200),
      contentType: String(pick(cfg, 'contentType') ?? 'text/plain'),
      messageBody: String(pick(cfg, 'messageBody') ?? ''),
    };
  }
  if (type !== 'forward') {
    throw new TwinError(
      'TWIN_INVALID',
      `${where}: action type ${JSON.stringify(type)} is not supported by the twin; use "forward" or "fixed-response"`,
    );
  }
  const groups: any[] =
    pick(pick(raw, 'forwardConfig') ?? {}, 'targetGroups') ?? pick(raw, 'targetGroups') ?? [];
  const targetGroups: TargetGroup[] = [];
  for (const g of groups) {
    const serviceName = pick(g, 'serviceName');
    if (!serviceName) {
      throw new TwinError(
        'TWIN_INVALID',
        `${where}: every target group needs serviceName (targetGroupARN is not modelled by the twin)`,
      );
    }
    const port = pick(g, 'servicePort');
    const weight = Number(pick(g, 'weight') ?? 1);
    targetGroups.push({
      serviceName,
      servicePort: typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port,
      weight: Number.isFinite(weight) && weight > 0 ? weight : 0,
    });
  }
  return { type: 'forward', targetGroups };
}

/** A key as written either way: "forwardConfig" or "ForwardConfig". */
function pick(obj: any, camel: string): any {
  if (obj === null || typeof obj !== 'object') return undefined;
  return obj[camel] ?? obj[camel[0]!.toUpperCase() + camel.slice(1)];
}

/**
 * Smooth weighted round-robin (as nginx does it): over any run of sum(weights) picks each target is
 * chosen exactly `weight` times, evenly spread, so a 10 % canary gets 10 of every 100 requests.
 */
export class SmoothWeightedRoundRobin<T> {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly items: Array<{ item: T; weight: number }>) {
    this.current = items.map(() => 0);
    this.total = items.reduce((s, i) => s + i.weight, 0);
  }

  next(): T | undefined {
    if (this.total <= 0) return undefined;
    let best = -1;
    for (let i = 0; i < this.items.length; i++) {
      const w = this.items[i]!.weight;
      if (w <= 0) continue;
      this.current[i]! += w;
      if (best < 0 || this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.items[best]!.item;
  }
}
