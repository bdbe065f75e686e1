/**
 * The harness's error family. Every error a user can cause carries a stable code and a message that
 * names the file, the field and the value, and says what to do. Input errors exit with code 2.
 */
export type TwinErrorCode =
  | 'TWIN_MANIFEST_YAML'
  | 'TWIN_MANIFEST_INVALID'
  | 'TWIN_KUSTOMIZE_NOT_FOUND'
  | 'TWIN_KUSTOMIZE_FAILED'
  | 'TWIN_TOPOLOGY_INVALID'
  | 'TWIN_BINDINGS_INVALID'
  | 'TWIN_SCENARIO_UNKNOWN'
  | 'TWIN_ENV_UNKNOWN'
  | 'TWIN_ENV_UNAVAILABLE'
  | 'TWIN_OPTION_INVALID'
  | 'TWIN_NOT_FOUND'
  | 'TWIN_ALREADY_EXISTS'
  | 'TWIN_CONFLICT'
  | 'TWIN_INVALID'
  | 'TWIN_TIMEOUT'
  | 'TWIN_ABORTED'
  | 'TWIN_LOOPBACK_UNAVAILABLE'
  | 'TWIN_PROCESS_FAILED'
  | 'TWIN_BINARY_NOT_FOUND'
  | 'TWIN_LOAD_PROFILE_INVALID'
  | 'TWIN_KAFKA_CONFIG_INVALID'
  | 'TWIN_STATE_INVALID'
  | 'TWIN_ALREADY_RUNNING'
  | 'TWIN_EXPERIMENT_INVALID'
  | 'TWIN_CHAOS_UNSUPPORTED'
  | 'TWIN_BROWSER_NOT_FOUND'
  | 'TWIN_TRAFFIC_POLICY_INVALID';

const INPUT_ERRORS = new Set<TwinErrorCode>([
  'TWIN_MANIFEST_YAML',
  'TWIN_MANIFEST_INVALID',
  'TWIN_KUSTOMIZE_NOT_FOUND',
  'TWIN_BINARY_NOT_FOUND',
  'TWIN_KUSTOMIZE_FAILED',
  'TWIN_TOPOLOGY_INVALID',
  'TWIN_BINDINGS_INVALID',
  'TWIN_SCENARIO_UNKNOWN',
  'TWIN_ENV_UNKNOWN',
  'TWIN_ENV_UNAVAILABLE',
  'TWIN_OPTION_INVALID',
  'TWIN_LOAD_PROFILE_INVALID',
  'TWIN_STATE_INVALID',
  'TWIN_ALREADY_RUNNING',
  'TWIN_EXPERIMENT_INVALID',
  'TWIN_CHAOS_UNSUPPORTED',
  'TWIN_BROWSER_NOT_FOUND',
  'TWIN_TRAFFIC_POLICY_INVALID',
]);

export class TwinError extends Error {
  override name = 'TwinError';
  constructor(
    readonly code: TwinErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Bad input from the user (manifests, topology, flags): the CLI exits with code 2. */
  get isInputError(): boolean {
    return INPUT_ERRORS.has(this.code);
  }
}

export function isTwinError(e: unknown, code?: TwinErrorCode): e is TwinError {
  return e instanceof TwinError && (code === undefined || e.code === code);
}
