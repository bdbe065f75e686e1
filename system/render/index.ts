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
export {
  DEFAULT_NAMESPACES,
  formatProblem,
  type ManifestProblem,
  manifestProblems,
  registryWith,
  type ValidationOptions,
  validateObjects,
} from './manifest-validation.ts';
export { parseYamlDocuments, toKubeObjects } from './manifest-yaml.ts';
export { displayPath, type RenderedObject } from './rendered-object.ts';
export { SourceLines } from './source-lines.ts';
export { DEFAULT_MAX_REPLICAS, maxReplicasFromEnv } from './twin-limits.ts';
