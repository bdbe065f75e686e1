export { BUILTIN_SCHEMA_SOURCE } from './builtin-schema.ts';
export { cronScheduleProblem } from './cron-schedule.ts';
export { duplicateFields } from './duplicate-fields.ts';
export type { StatusCause } from './field-errors.ts';
export {
  APISERVER_MAX_REQUEST_BYTES,
  ETCD_MAX_REQUEST_BYTES,
  TOTAL_ANNOTATION_SIZE_LIMIT,
} from './metadata-validation.ts';
export type { JSONSchemaProps } from './structural-schema.ts';
export {
  type FieldValidation,
  type ObjectValidation,
  pruneObject,
  servedVersions,
  validateObject,
} from './validate-object.ts';
