import modelsFile from '../../../kube/api/builtin-models.json' with { type: 'json' };
import type { ValidateObject } from '../../../twin/apiserver/admission.ts';

const MODELS = (
  modelsFile as unknown as { models: Record<string, { properties: Record<string, { type: string }> }> }
).models;

/**
 * A small stand-in for kube/schema validateObject (built on another branch), injected through the API
 * server's validation hook in tests: unknown fields of built-in kinds (walked through the client-node
 * models) are errors under Strict and warnings under Warn; a negative spec.replicas is invalid.
 */
export const standInValidator: ValidateObject = (obj, registry, { fieldValidation }) => {
  const causes: { reason: string; message: string; field: string }[] = [];
  const warnings: string[] = [];
  const resource = registry.lookupKind(obj.apiVersion, obj.kind);
  const walk = (value: unknown, model: string, path: string) => {
    const m = MODELS[model];
    if (!m || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const p = m.properties[k];
      const field = path ? `${path}.${k}` : k;
      if (!p) {
        const message = `unknown field "${field}"`;
        if (fieldValidation === 'Strict') causes.push({ reason: 'FieldValueUnknown', message, field });
        else if (fieldValidation === 'Warn') warnings.push(message);
        continue;
      }
      const array = /^Array<(.+)>$/.exec(p.type);
      if (array && Array.isArray(v)) {
        for (const [i, item] of v.entries()) walk(item, array[1]!, `${field}[${i}]`);
      } else walk(v, p.type, field);
    }
  };
  if (resource?.model) walk(obj, resource.model, '');
  if (typeof obj.spec?.replicas === 'number' && obj.spec.replicas < 0)
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${obj.spec.replicas}: must be greater than or equal to 0`,
      field: 'spec.replicas',
    });
  return { causes, warnings };
};
