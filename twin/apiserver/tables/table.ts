import type { ServedResource } from '../../../kube/api/resource-registry.ts';
import type { KubeObject } from '../../../kube/object.ts';
import { evaluateJsonPath } from '../../rollouts/jsonpath.ts';
import { BUILTIN_PRINTERS, DEFAULT_PRINTER, type Printer, type TableColumn } from './builtin-printers.ts';
import { ageOf } from './human-duration.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The printer of a served resource: the built-in kind's, the CRD's additionalPrinterColumns, or Name/Created At. */
export function printerFor(r: ServedResource): Printer {
  if (r.custom) return customPrinter(r);
  return BUILTIN_PRINTERS[`${r.group}/${r.kind}`] ?? DEFAULT_PRINTER;
}

/**
 * A CRD's columns (apiextensions' table convertor): Name, then each additionalPrinterColumn read by
 * its JSONPath (date columns printed as ages); with none declared, Name and Age.
 */
function customPrinter(r: ServedResource): Printer {
  const declared = r.custom?.additionalPrinterColumns ?? [];
  const columns = declared.length
    ? declared
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: '' }];
  return {
    columns: [
      {
        name: 'Name',
        type: 'string',
        format: 'name',
        description: 'Name must be unique within a namespace.',
        priority: 0,
      },
      ...columns.map(
        (c): TableColumn => ({
          name: c.name,
          type: c.type as TableColumn['type'],
          format: c.format ?? '',
          description: c.description ?? '',
          priority: c.priority ?? 0,
        }),
      ),
    ],
    cells(obj: KubeObject, now: number) {
      return [
        obj.metadata.name,
        ...columns.map((c) => {
          let v: unknown;
          try {
            v = evaluateJsonPath(c.jsonPath, obj);
          } catch {
            v = undefined;
          }
          if (v === undefined || v === null) return null;
          if (c.type === 'date') return typeof v === 'string' ? ageOf(v, now) : null;
          if (Array.isArray(v))
            return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
          if (typeof v === 'object') return JSON.stringify(v);
          return v;
        }),
      ];
    },
  };
}

/** A meta.k8s.io/v1 Table of objects, as `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` asks. */
export function toTable(
  objects: Readonly<KubeObject>[],
  printer: Printer,
  options: {
    now: number;
    includeObject: IncludeObject;
    metadata?: Record<string, unknown>;
    withColumns?: boolean;
    apiVersion: string;
    kind: string;
  },
): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.metadata ?? {},
    ...(options.withColumns === false ? {} : { columnDefinitions: printer.columns }),
    rows: objects.map((o) => {
      const conditions = printer.conditions?.(o);
      const row: Record<string, unknown> = { cells: printer.cells(o, options.now) };
      if (conditions) row['conditions'] = conditions;
      if (options.includeObject === 'Metadata')
        row['object'] = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
      else if (options.includeObject === 'Object')
        row['object'] = { ...o, apiVersion: options.apiVersion, kind: options.kind };
      return row;
    }),
  };
}

/** Whether the Accept header asks for a Table (meta.k8s.io v1 or v1beta1). */
export function acceptsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .some((p) => /(^|;)\s*as=Table/.test(p) && /g=meta\.k8s\.io/.test(p) && /v=v1(beta1)?\b/.test(p));
}

/** Whether the Accept header asks for PartialObjectMetadata / PartialObjectMetadataList. */
export function acceptsPartialMetadata(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .some((p) => /as=PartialObjectMetadata(List)?/.test(p) && /g=meta\.k8s\.io/.test(p));
}
