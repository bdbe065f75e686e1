import type { AlbTrafficRouting, Rollout } from './types.ts';

export const ALB_ANNOTATION_PREFIX = 'alb.ingress.kubernetes.io';
export const MANAGED_ALB_ACTIONS_ANNOTATION = 'rollouts.argoproj.io/managed-alb-actions';

export interface AlbTargetGroup {
  ServiceName: string;
  ServicePort: string;
  Weight: number;
}

export interface AlbAction {
  Type: 'forward';
  ForwardConfig: { TargetGroups: AlbTargetGroup[] };
}

export function albOf(ro: Rollout): AlbTrafficRouting | undefined {
  return ro.spec?.strategy?.canary?.trafficRouting?.alb;
}

/** The Ingresses the ALB router writes to (`ingress` or `ingresses`). */
export function albIngresses(alb: AlbTrafficRouting): string[] {
  return [...(alb.ingress ? [alb.ingress] : []), ...(alb.ingresses ?? [])];
}

/** `alb.ingress.kubernetes.io/actions.<rootService>`, rootService defaulting to the stableService. */
export function albActionAnnotationKey(ro: Rollout): string {
  const alb = albOf(ro);
  const prefix = alb?.annotationPrefix ?? ALB_ANNOTATION_PREFIX;
  const root = alb?.rootService || ro.spec?.strategy?.canary?.stableService || '';
  return `${prefix}/actions.${root}`;
}

/** The forward action Argo writes (getForwardActionString): canary target group first, then stable. */
export function albForwardAction(ro: Rollout, canaryWeight: number): AlbAction {
  const canary = ro.spec?.strategy?.canary ?? {};
  const port = String(albOf(ro)?.servicePort ?? '');
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { ServiceName: canary.canaryService ?? '', ServicePort: port, Weight: canaryWeight },
        { ServiceName: canary.stableService ?? '', ServicePort: port, Weight: 100 - canaryWeight },
      ],
    },
  };
}

/** The canary weight an action annotation currently routes, or undefined when it is absent or foreign. */
export function canaryWeightOf(ro: Rollout, annotation: string | undefined): number | undefined {
  if (!annotation) return undefined;
  try {
    const action = JSON.parse(annotation) as AlbAction;
    const canaryService = ro.spec?.strategy?.canary?.canaryService;
    return action.ForwardConfig?.TargetGroups?.find((tg) => tg.ServiceName === canaryService)?.Weight;
  } catch {
    return undefined;
  }
}
