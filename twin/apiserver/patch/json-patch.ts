import fastJsonPatch from 'fast-json-patch';
import { PatchError } from './strategic-merge-patch.ts';

const { applyPatch, JsonPatchError } = fastJsonPatch;

/**
 * JSON patch (RFC 6902, `application/json-patch+json`), applied to a copy; a failing operation (a
 * missing path, a failed `test`) fails the whole patch, as the API server answers it.
 */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations))
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const doc = structuredClone(target);
  try {
    return applyPatch(doc, operations as never, true, true).newDocument;
  } catch (err) {
    if (err instanceof JsonPatchError) {
      const op = err.operation as { op?: string; path?: string } | undefined;
      switch (err.name) {
        case 'TEST_OPERATION_FAILED':
          throw new PatchError(`testing value ${op?.path ?? ''} failed: test failed`);
        case 'OPERATION_PATH_UNRESOLVABLE':
        case 'OPERATION_PATH_CANNOT_ADD':
          throw new PatchError(`doc is missing path: "${op?.path ?? ''}": missing value`);
        case 'OPERATION_OP_INVALID':
          throw new PatchError(`Unexpected kind: ${op?.op ?? ''}`);
        default:
          throw new PatchError(`json patch ${op?.op ?? ''} ${op?.path ?? ''}: ${err.message.split('\n')[0]}`);
      }
    }
    throw err;
  }
}
