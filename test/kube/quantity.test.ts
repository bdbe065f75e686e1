import { describe, expect, it } from 'vitest';
import { bytes, cpuMillis, parseQuantity, resourceValue } from '../../kube/quantity.ts';

describe('parseQuantity', () => {
  it('reads decimal, binary and exponent forms', () => {
    expect(parseQuantity('500m')).toBeCloseTo(0.5, 12);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('256Mi')).toBe(256 * 2 ** 20);
    expect(parseQuantity('512M')).toBe(512e6);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1.5k')).toBe(1500);
    expect(parseQuantity('1E')).toBe(1e18);
    expect(parseQuantity('0.25')).toBe(0.25);
    expect(parseQuantity(3)).toBe(3);
  });

  it('throws on malformed quantities, naming the input', () => {
    for (const bad of ['', 'abc', '1Gb', '1K', '10 m', 'm', '1mi']) {
      expect(() => parseQuantity(bad), JSON.stringify(bad)).toThrow(/quantities must match/);
    }
    expect(() => parseQuantity('1Gb')).toThrow('"1Gb"');
  });

  // Kubernetes' resource.ParseQuantity rejects these ("unable to parse numeric part of quantity").
  it('throws on a numeric part with no digits or several dots ("." and "1.2.3")', () => {
    expect(() => parseQuantity('.')).toThrow('unable to parse numeric part of quantity: "."');
    expect(() => parseQuantity('1.2.3')).toThrow('unable to parse numeric part of quantity: "1.2.3"');
  });
});

describe('cpuMillis, bytes, resourceValue', () => {
  it('converts to the units the scheduler compares', () => {
    expect(cpuMillis('500m')).toBe(500);
    expect(cpuMillis('2')).toBe(2000);
    expect(cpuMillis('0.1')).toBe(100);
    expect(cpuMillis(undefined)).toBe(0);
    expect(bytes('1Gi')).toBe(1073741824);
    expect(bytes('512M')).toBe(512000000);
    expect(bytes(undefined)).toBe(0);
    expect(resourceValue('cpu', '250m')).toBe(250);
    expect(resourceValue('memory', '1Ki')).toBe(1024);
    expect(resourceValue('nvidia.com/gpu', '1')).toBe(1);
  });
});
