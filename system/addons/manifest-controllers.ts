import type { RenderedObject } from '../render/rendered-object.ts';
import type { LoadedAddon } from './addons-file.ts';

/** Container images of every pod template of the objects (init containers included), with the object that runs each. */
export function templateImages(rendered: readonly RenderedObject[]): { image: string; r: RenderedObject }[] {
  return rendered.flatMap((r) => {
    const spec = r.object.spec?.template?.spec;
    return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]
      .map((c: { image?: unknown }) => c.image)
      .filter((i: unknown): i is string => typeof i === 'string')
      .map((image: string) => ({ image, r }));
  });
}

/**
 * What is wrong with the add-ons whose controller the system's manifests deploy (controller:
 * manifests): the manifests must deploy it, at the version the list pins, so that the CRDs installed
 * and the controller running agree.
 */
export function manifestControllerProblems(
  addons: readonly LoadedAddon[],
  rendered: readonly RenderedObject[],
): { addon: LoadedAddon; message: string }[] {
  const out: { addon: LoadedAddon; message: string }[] = [];
  const images = templateImages(rendered).map((t) => t.image);
  for (const a of addons) {
    if (a.controller !== 'manifests') continue;
    const ours = images.filter((i) => a.entry.controllerImages.some((repo) => i.startsWith(`${repo}:`)));
    if (ours.length === 0) {
      out.push({
        addon: a,
        message: `${a.name}: controller: manifests, but no workload of the manifests runs ${a.entry.controllerImages.join(' or ')}; use controller: addon to install it`,
      });
      continue;
    }
    const wrong = ours.filter((i) => i.slice(i.lastIndexOf(':') + 1) !== a.version);
    if (wrong.length > 0)
      out.push({
        addon: a,
        message: `${a.name}: version ${a.version}, but the manifests deploy ${[...new Set(wrong)].join(', ')}; pin the same release in both`,
      });
  }
  return out;
}
