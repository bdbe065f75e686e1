import { createHash } from 'node:crypto';
import { compileAnchored, expandTemplate } from './go-regexp.ts';
import { isValidLabelName, type Labels, LabelsBuilder } from './labels.ts';

/**
 * Relabelling as Prometheus documents it (relabel_config, metric_relabel_configs): the source
 * labels' values joined by `separator` are matched against the fully anchored `regex`, then the
 * action applies. Defaults: separator `;`, regex `(.*)`, replacement `$1`, action `replace`.
 * https://prometheus.io/docs/prometheus/latest/configuration/configuration/#relabel_config
 */
export const RELABEL_ACTIONS = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
] as const;
export type RelabelAction = (typeof RELABEL_ACTIONS)[number];

export interface RelabelConfig {
  sourceLabels: string[];
  separator: string;
  regex: RegExp;
  /** The regex as written (before anchoring). */
  regexText: string;
  modulus: number;
  targetLabel: string;
  replacement: string;
  action: RelabelAction;
}

export const DEFAULT_RELABEL = {
  separator: ';',
  regex: '(.*)',
  replacement: '$1',
  action: 'replace',
} as const;

/** What a relabel_config holds in YAML (already type-checked). */
export interface RelabelConfigInput {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  modulus?: number;
  target_label?: string;
  replacement?: string;
  action?: string;
}

const RELABEL_TARGET = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

/** relabel.Config.Validate with Prometheus' messages; the regex is compiled (errors as Go words them). */
export function relabelConfigFrom(input: RelabelConfigInput): RelabelConfig {
  const actionText = input.action ?? DEFAULT_RELABEL.action;
  if (actionText === '') throw new Error('relabel action cannot be empty');
  const action = actionText.toLowerCase() as RelabelAction;
  if (!RELABEL_ACTIONS.includes(action))
    throw new Error(`unknown relabel action ${JSON.stringify(actionText)}`);
  const regexText = input.regex ?? DEFAULT_RELABEL.regex;
  const config: RelabelConfig = {
    sourceLabels: input.source_labels ?? [],
    separator: input.separator ?? DEFAULT_RELABEL.separator,
    regex: compileAnchored(regexText),
    regexText,
    modulus: input.modulus ?? 0,
    targetLabel: input.target_label ?? '',
    replacement: input.replacement ?? DEFAULT_RELABEL.replacement,
    action,
  };
  for (const name of config.sourceLabels)
    if (!isValidLabelName(name)) throw new Error(`${JSON.stringify(name)} is not a valid label name`);
  if (action === 'hashmod' && config.modulus === 0)
    throw new Error('relabel configuration for hashmod requires non-zero modulus');
  const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'];
  if (needsTarget.includes(action) && config.targetLabel === '')
    throw new Error(`relabel configuration for ${action} action requires 'target_label' value`);
  if (action === 'replace' && !config.targetLabel.includes('$') && !isValidLabelName(config.targetLabel))
    throw new Error(`${JSON.stringify(config.targetLabel)} is invalid 'target_label' for ${action} action`);
  if (action === 'replace' && config.targetLabel.includes('$') && !RELABEL_TARGET.test(config.targetLabel))
    throw new Error(`${JSON.stringify(config.targetLabel)} is invalid 'target_label' for ${action} action`);
  if (
    ['lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) &&
    !isValidLabelName(config.targetLabel)
  )
    throw new Error(`${JSON.stringify(config.targetLabel)} is invalid 'target_label' for ${action} action`);
  if (
    ['lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) &&
    config.replacement !== DEFAULT_RELABEL.replacement
  )
    throw new Error(`'replacement' can not be set for ${action} action`);
  if (action === 'labelmap' && !RELABEL_TARGET.test(config.replacement))
    throw new Error(`${JSON.stringify(config.replacement)} is invalid 'replacement' for ${action} action`);
  if (action === 'hashmod' && !isValidLabelName(config.targetLabel))
    throw new Error(`${JSON.stringify(config.targetLabel)} is invalid 'target_label' for ${action} action`);
  if (action === 'labeldrop' || action === 'labelkeep') {
    if (
      config.sourceLabels.length > 0 ||
      config.targetLabel !== '' ||
      config.modulus !== 0 ||
      config.separator !== DEFAULT_RELABEL.separator ||
      config.replacement !== DEFAULT_RELABEL.replacement
    )
      throw new Error(`${action} action requires only 'regex', and no other fields`);
  }
  if (action === 'keepequal' || action === 'dropequal') {
    if (
      config.sourceLabels.length === 0 ||
      config.modulus !== 0 ||
      config.separator !== DEFAULT_RELABEL.separator ||
      config.replacement !== DEFAULT_RELABEL.replacement ||
      regexText !== DEFAULT_RELABEL.regex
    )
      throw new Error(
        `${action} action requires only 'source_labels' and \`target_label\`, and no other fields`,
      );
  }
  return config;
}

/**
 * Applies the configs in order to the builder; false when a keep/drop rule drops the whole set
 * (relabel.ProcessBuilder).
 */
export function relabelBuilder(lb: LabelsBuilder, configs: readonly RelabelConfig[]): boolean {
  for (const cfg of configs) if (!relabelOne(lb, cfg)) return false;
  return true;
}

/** relabel.Process: the relabelled set, or undefined when it is dropped or left empty. */
export function relabel(labels: Labels, configs: readonly RelabelConfig[]): Labels | undefined {
  const lb = new LabelsBuilder(labels);
  if (!relabelBuilder(lb, configs)) return undefined;
  return lb.labels();
}

function relabelOne(lb: LabelsBuilder, cfg: RelabelConfig): boolean {
  const value = cfg.sourceLabels.map((n) => lb.get(n)).join(cfg.separator);
  const re = cfg.regex;
  switch (cfg.action) {
    case 'drop':
      return !re.test(value);
    case 'keep':
      return re.test(value);
    case 'dropequal':
      return lb.get(cfg.targetLabel) !== value;
    case 'keepequal':
      return lb.get(cfg.targetLabel) === value;
    case 'replace': {
      const m = re.exec(value);
      if (!m) return true;
      const target = expandTemplate(cfg.targetLabel, m);
      if (!isValidLabelName(target)) return true;
      lb.set(target, expandTemplate(cfg.replacement, m));
      return true;
    }
    case 'lowercase':
      lb.set(cfg.targetLabel, value.toLowerCase());
      return true;
    case 'uppercase':
      lb.set(cfg.targetLabel, value.toUpperCase());
      return true;
    case 'hashmod':
      lb.set(cfg.targetLabel, String(hashmod(value, cfg.modulus)));
      return true;
    case 'labelmap':
      for (const [name, v] of lb.entries()) {
        const m = re.exec(name);
        if (m) lb.set(expandTemplate(cfg.replacement, m), v);
      }
      return true;
    case 'labeldrop':
      for (const name of lb.names()) if (re.test(name)) lb.del(name);
      return true;
    case 'labelkeep':
      for (const name of lb.names()) if (!re.test(name)) lb.del(name);
      return true;
  }
}

/** The last 8 bytes of the value's MD5 as a big-endian integer, modulo `modulus` (Prometheus' sum64). */
export function hashmod(value: string, modulus: number): number {
  const digest = createHash('md5').update(value).digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(modulus));
}
