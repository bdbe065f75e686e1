import { compileAnchored } from '../go-regexp.ts';

/** A label matcher of a selector (`=`, `!=`, `=~`, `!~`); regexes are fully anchored. */
export interface LabelMatcher {
  readonly type: '=' | '!=' | '=~' | '!~';
  readonly name: string;
  readonly value: string;
  readonly regex?: RegExp;
}

export function labelMatcher(type: LabelMatcher['type'], name: string, value: string): LabelMatcher {
  if (type === '=~' || type === '!~') return { type, name, value, regex: compileAnchored(value) };
  return { type, name, value };
}

/** Whether a label value (empty when the label is absent) satisfies the matcher. */
export function matchesLabel(m: LabelMatcher, value: string): boolean {
  switch (m.type) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return m.regex!.test(value);
    case '!~':
      return !m.regex!.test(value);
  }
}

export function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}
