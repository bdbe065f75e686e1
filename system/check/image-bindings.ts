import type { RenderedObject } from '../render/rendered-object.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, podTemplates } from './pod-templates.ts';

/** Every image the objects run, with where it is written: containers of pod templates and the operators' images. */
function imageUses(
  rendered: readonly RenderedObject[],
): { image: string; r: RenderedObject; field: string }[] {
  const out: { image: string; r: RenderedObject; field: string }[] = [];
  for (const t of podTemplates(rendered))
    for (const { c, path } of containersOf(t))
      if (typeof c?.image === 'string') out.push({ image: c.image, r: t.r, field: `${path}.image` });
  for (const r of rendered) {
    const o = r.object;
    if (
      o.apiVersion === 'postgresql.cnpg.io/v1' &&
      o.kind === 'Cluster' &&
      typeof o.spec?.imageName === 'string'
    )
      out.push({ image: o.spec.imageName, r, field: 'spec.imageName' });
    if (o.kind === 'RedisCluster' && typeof o.spec?.kubernetesConfig?.image === 'string')
      out.push({ image: o.spec.kubernetesConfig.image, r, field: 'spec.kubernetesConfig.image' });
  }
  return out;
}

/**
 * Images no twin binding names (twin-bindings.yaml): the twin emulates their containers. A note, not a
 * problem of the manifests: a cluster pulls and runs them; on the twin they go through the pod
 * lifecycle, hold their resources and serve nothing (docs/architecture.md, "Live and emulated").
 */
export function imageBindingFindings(ctx: CheckContext): Finding[] {
  const bindings = ctx.bindings;
  if (!bindings) return [];
  const byImage = new Map<string, { r: RenderedObject; field: string; users: Set<string> }>();
  for (const u of imageUses(ctx.rendered)) {
    if (bindings.resolve(u.image)) continue;
    const seen = byImage.get(u.image) ?? { r: u.r, field: u.field, users: new Set<string>() };
    seen.users.add(`${u.r.object.kind} ${u.r.object.metadata.namespace ?? ''}/${u.r.object.metadata.name}`);
    byImage.set(u.image, seen);
  }
  return [...byImage].map(([image, u]) =>
    objectFinding(ctx, u.r, {
      severity: 'note',
      check: 'images',
      field: u.field,
      message: `image ${image} has no twin binding: on the twin its containers are emulated (they run through the pod lifecycle, hold their resources and serve nothing)${u.users.size > 1 ? `; also used by ${[...u.users].slice(1).join(', ')}` : ''}`,
      cluster: 'pulls the image and runs it',
    }),
  );
}
