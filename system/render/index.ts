export {
  classifyKinds,
  describeStoredOnly,
  type KindClassification,
  RECONCILED_KINDS,
} from './kind-classification.ts';
export { checkKustomizationTree, kustomizationFile } from './kustomization-tree.ts';
export { ORIGIN_ANNOTATION, type RenderOptions, renderKustomization } from './kustomize.ts';
export { findKustomizeTool, type KustomizeTool } from './kustomize-tool.ts';
export { loadManifestFile, loadManifests } from './load-manifests.ts';
export { type ManifestProblem, manifestProblems, validateObjects } from './manifest-validation.ts';
export { parseYamlDocuments, toKubeObjects } from './manifest-yaml.ts';
export { displayPath, type RenderedObject } from './rendered-object.ts';
