import { describe, expect, it } from 'vitest';
import { parseYamlDocuments } from '../../../system/render/manifest-yaml.ts';

describe('parseYamlDocuments', () => {
  it('a manifest alias bomb is a YAML error naming the file and document', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, next] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ])
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    expect(() => parseYamlDocuments(`kind: ConfigMap\n---\n${levels.join('\n')}\n`, 'app.yaml')).toThrow(
      'app.yaml: document 2: its aliases expand more than 1000 times (a YAML alias bomb?)',
    );
  });
});
