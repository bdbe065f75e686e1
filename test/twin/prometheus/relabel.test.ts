import { describe, expect, it } from 'vitest';
import { labelsFrom, labelsToRecord } from '../../../twin/prometheus/labels.ts';
import {
  hashmod,
  type RelabelConfigInput,
  relabel,
  relabelConfigFrom,
} from '../../../twin/prometheus/relabel.ts';

function run(labels: Record<string, string>, ...configs: RelabelConfigInput[]) {
  const out = relabel(labelsFrom(labels), configs.map(relabelConfigFrom));
  return out && labelsToRecord(out);
}

describe('relabel_config', () => {
  it('defaults to replace with separator ";", regex (.*) anchored, replacement $1', () => {
    expect(run({ a: 'x', b: 'y' }, { source_labels: ['a', 'b'], target_label: 'c' })).toEqual({
      a: 'x',
      b: 'y',
      c: 'x;y',
    });
    // Anchored: "x" does not match "x;y" unless the regex covers all of it.
    expect(run({ a: 'x', b: 'y' }, { source_labels: ['a', 'b'], regex: 'x', target_label: 'c' })).toEqual({
      a: 'x',
      b: 'y',
    });
  });

  it('replace expands groups in the target label and deletes it on an empty result', () => {
    expect(
      run(
        { __address__: '10.0.0.1:8080' },
        {
          source_labels: ['__address__'],
          regex: '(.*):(\\d+)',
          target_label: 'port_$2',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's ${1}, not a template literal
          replacement: '${1}',
        },
      ),
    ).toEqual({ __address__: '10.0.0.1:8080', port_8080: '10.0.0.1' });
    expect(run({ a: 'x', c: 'old' }, { source_labels: ['a'], target_label: 'c', replacement: '' })).toEqual({
      a: 'x',
    });
    // Go's template rules: $1x names group "1x", which does not exist.
    expect(run({ a: 'x' }, { source_labels: ['a'], target_label: 'c', replacement: '$1x' })).toEqual({
      a: 'x',
    });
  });

  it('keep and drop keep or drop the whole set', () => {
    expect(run({ a: 'true' }, { source_labels: ['a'], regex: 'true', action: 'keep' })).toEqual({
      a: 'true',
    });
    expect(run({ a: 'false' }, { source_labels: ['a'], regex: 'true', action: 'keep' })).toBeUndefined();
    expect(run({}, { source_labels: ['a'], regex: 'true', action: 'keep' })).toBeUndefined();
    expect(run({ a: 'x' }, { source_labels: ['a'], regex: 'x|y', action: 'drop' })).toBeUndefined();
  });

  it('keepequal and dropequal compare the joined source labels with the target label', () => {
    const cfg = { source_labels: ['a'], target_label: 'b' };
    expect(run({ a: '1', b: '1' }, { ...cfg, action: 'keepequal' })).toEqual({ a: '1', b: '1' });
    expect(run({ a: '1', b: '2' }, { ...cfg, action: 'keepequal' })).toBeUndefined();
    expect(run({ a: '1', b: '1' }, { ...cfg, action: 'dropequal' })).toBeUndefined();
  });

  it('hashmod takes the last 8 bytes of the MD5 as an integer', () => {
    // md5("") = d41d8cd98f00b204e9800998ecf8427e; the last 8 bytes are 0xe9800998ecf8427e.
    expect(hashmod('', 1000)).toBe(Number(0xe9800998ecf8427en % 1000n));
    expect(
      run({ a: '' }, { source_labels: ['a'], target_label: 'h', modulus: 1000, action: 'hashmod' }),
    ).toEqual({
      h: String(Number(0xe9800998ecf8427en % 1000n)),
    });
  });

  it('labelmap, labeldrop and labelkeep act on label names', () => {
    expect(
      run({ __meta_x_a: '1', __meta_x_b: '2', c: '3' }, { regex: '__meta_x_(.+)', action: 'labelmap' }),
    ).toEqual({
      __meta_x_a: '1',
      __meta_x_b: '2',
      a: '1',
      b: '2',
      c: '3',
    });
    expect(run({ a: '1', ab: '2', b: '3' }, { regex: 'a.*', action: 'labeldrop' })).toEqual({ b: '3' });
    expect(run({ a: '1', ab: '2', b: '3' }, { regex: 'a', action: 'labelkeep' })).toEqual({ a: '1' });
  });

  it('lowercase and uppercase set the target label', () => {
    expect(
      run({ a: 'MiXed' }, { source_labels: ['a'], target_label: 'l', action: 'lowercase' }),
    ).toMatchObject({ l: 'mixed' });
    expect(
      run({ a: 'MiXed' }, { source_labels: ['a'], target_label: 'u', action: 'uppercase' }),
    ).toMatchObject({ u: 'MIXED' });
  });

  it('rejects what Prometheus rejects, with its messages', () => {
    expect(() => relabelConfigFrom({ action: 'bogus' })).toThrow('unknown relabel action "bogus"');
    expect(() => relabelConfigFrom({ action: 'replace', source_labels: ['a'] })).toThrow(
      "relabel configuration for replace action requires 'target_label' value",
    );
    expect(() => relabelConfigFrom({ action: 'hashmod', target_label: 'x' })).toThrow(
      'relabel configuration for hashmod requires non-zero modulus',
    );
    expect(() => relabelConfigFrom({ action: 'labeldrop', regex: 'x', target_label: 'y' })).toThrow(
      "labeldrop action requires only 'regex', and no other fields",
    );
    expect(() => relabelConfigFrom({ regex: '(a' })).toThrow(/^error parsing regexp: /);
    expect(() => relabelConfigFrom({ regex: '(?=a)' })).toThrow('invalid or unsupported Perl syntax');
  });
});
