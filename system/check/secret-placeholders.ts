import type { RenderedObject } from '../render/rendered-object.ts';
import { type CheckContext, objectFinding } from './check-context.ts';
import type { Finding } from './finding.ts';
import { containersOf, podTemplates } from './pod-templates.ts';

/**
 * The placeholder rule. A Secret value (a `stringData` value, or a `data` value once base64-decoded) is
 * a placeholder when, trimmed and compared without case, it
 * - contains "changeme", "change-me", "change_me", "replaceme" (any of - _ or space between the words),
 *   "placeholder", "your-password" / "your_secret" / "your-api-token" / "your-key" (one word may come
 *   between), or "insert … here";
 * - is only x's or asterisks, three or more ("xxxx", "***");
 * - is an unfilled template: "<password>", "${DB_PASSWORD}", "{{ .Values.password }}";
 * - is "todo", "fixme", "tbd", "dummy" or "example";
 * - under a key that names a credential (password, passwd, secret, token, key), is a well-known
 *   default: "password", "secret", "changeit", "admin", "root", "test", "default";
 * - is any of the above base64-encoded once more (base64 text pasted into stringData);
 * - is empty: an error when a pod reads that key (it gets an empty credential), a warning otherwise.
 */
export function placeholderReason(key: string, raw: string): string | undefined {
  const reason = (v: string): string | undefined => {
    const t = v.trim().toLowerCase();
    if (
      /change[-_ ]?me|replace[-_ ]?me|placeholder|your[-_ ]?([a-z]+[-_ ])?(password|secret|token|key)|insert.*here/.test(
        t,
      )
    )
      return 'a placeholder';
    if (/^(x{3,}|\*{3,})$/.test(t)) return 'a placeholder';
    if (/^<[^<>]+>$|\$\{[^}]+\}|\{\{[^}]*\}\}/.test(t)) return 'an unfilled template';
    if (/^(todo|fixme|tbd|dummy|example)$/.test(t)) return 'a placeholder';
    if (/pass|secret|token|key/i.test(key) && /^(password|secret|changeit|admin|root|test|default)$/.test(t))
      return 'a well-known default credential';
    return undefined;
  };
  const direct = reason(raw);
  if (direct) return direct;
  const inner = decodeBase64(raw.trim());
  if (inner !== undefined && inner.trim() !== '') {
    const r = reason(inner);
    if (r) return `${r} in base64 (${JSON.stringify(inner.trim())})`;
  }
  return undefined;
}

/** base64 text that decodes to printable text, else undefined. */
function decodeBase64(s: string): string | undefined {
  if (s.length < 4 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return undefined;
  const text = Buffer.from(s, 'base64').toString('utf8');
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}

/** Keys of Secrets that pods read: "<ns>/<secret>" → keys (undefined: every key, through envFrom or a volume). */
function readKeys(rendered: readonly RenderedObject[]): Map<string, Set<string> | undefined> {
  const out = new Map<string, Set<string> | undefined>();
  const all = (ns: string, name: string) => out.set(`${ns}/${name}`, undefined);
  const one = (ns: string, name: string, key: string) => {
    const k = `${ns}/${name}`;
    if (out.has(k) && out.get(k) === undefined) return;
    out.set(k, new Set([...(out.get(k) ?? []), key]));
  };
  for (const t of podTemplates(rendered)) {
    for (const v of t.spec?.volumes ?? []) if (v?.secret?.secretName) all(t.namespace, v.secret.secretName);
    for (const { c } of containersOf(t)) {
      for (const f of c?.envFrom ?? []) if (f?.secretRef?.name) all(t.namespace, f.secretRef.name);
      for (const e of c?.env ?? []) {
        const ref = e?.valueFrom?.secretKeyRef;
        if (ref?.name && ref?.key) one(t.namespace, ref.name, ref.key);
      }
    }
  }
  return out;
}

/**
 * Secrets of the manifests that hold placeholders (placeholderReason above). A cluster stores them as
 * written, so production would run with them.
 */
export function secretPlaceholderFindings(ctx: CheckContext): Finding[] {
  const read = readKeys(ctx.rendered);
  const out: Finding[] = [];
  for (const r of ctx.rendered) {
    const o = r.object;
    if (o.apiVersion !== 'v1' || o.kind !== 'Secret') continue;
    const ns = o.metadata.namespace ?? 'default';
    const keys = read.get(`${ns}/${o.metadata.name}`);
    const isRead = (key: string) =>
      read.has(`${ns}/${o.metadata.name}`) && (keys === undefined || keys.has(key));
    const values: { key: string; value: string; field: string }[] = [
      ...Object.entries((o['stringData'] ?? {}) as Record<string, unknown>).map(([key, v]) => ({
        key,
        value: String(v ?? ''),
        field: `stringData[${key}]`,
      })),
      ...Object.entries((o['data'] ?? {}) as Record<string, unknown>).map(([key, v]) => ({
        key,
        value: Buffer.from(String(v ?? ''), 'base64').toString('utf8'),
        field: `data[${key}]`,
      })),
    ];
    for (const { key, value, field } of values) {
      if (value.trim() === '') {
        const used = isRead(key);
        out.push(
          objectFinding(ctx, r, {
            severity: used ? 'error' : 'warning',
            check: 'secrets',
            field,
            message: `${key} is empty${used ? ', and a pod reads it' : ''}`,
            cluster: used
              ? `stores it: the pod gets an empty ${key} and fails to authenticate`
              : 'stores it; nothing reads it yet',
          }),
        );
        continue;
      }
      const why = placeholderReason(key, value);
      if (!why) continue;
      out.push(
        objectFinding(ctx, r, {
          severity: 'error',
          check: 'secrets',
          field,
          message: `${key} holds ${why}: ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}; production must get the real value from a secret store (e.g. an ExternalSecret) or from the overlay`,
          cluster: `stores it as written: ${isRead(key) ? `the pods that read ${key} get the placeholder and fail to authenticate against the real service (or run with a credential anyone can read in the repository)` : 'whatever reads it later gets the placeholder'}`,
        }),
      );
    }
  }
  return out;
}
