import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AddressAllocator,
  assertLoopbackRange,
  BLOCK_OCTETS,
  claimAddressBlock,
  EmulatedPodAddresses,
  podAddressAllocator,
  serviceAddressAllocator,
} from '../../../twin/network/address-allocator.ts';

describe('AddressAllocator', () => {
  it('hands out pod IPs from 127.10/16, skipping .0 and .1 of each /24, stable per key', () => {
    const a = podAddressAllocator();
    expect(a.allocate('p1')).toBe('127.10.0.2');
    expect(a.allocate('p2')).toBe('127.10.0.3');
    expect(a.allocate('p1')).toBe('127.10.0.2');
    const ips = new Set<string>();
    for (let i = 0; i < 600; i++) ips.add(a.allocate(`x${i}`));
    expect(ips.size).toBe(600);
    for (const ip of ips) {
      const host = Number(ip.split('.')[3]);
      expect(host).toBeGreaterThanOrEqual(2);
      expect(host).toBeLessThanOrEqual(254);
    }
  });

  it('reuses released addresses and reserves existing ones', () => {
    const a = serviceAddressAllocator();
    const ip = a.allocate('svc-a');
    expect(ip.startsWith('127.96.')).toBe(true);
    expect(a.reserve('svc-b', ip)).toBe(false);
    a.release('svc-a');
    expect(a.reserve('svc-b', ip)).toBe(true);
    expect(a.addressOf('svc-b')).toBe(ip);
    expect(a.reserve('svc-c', '10.96.0.10')).toBe(false);
    expect(a.contains('127.96.3.7')).toBe(true);
    expect(a.contains('127.96.3.1')).toBe(false);
  });

  it('throws when the range is exhausted, naming what to do', () => {
    const a = new AddressAllocator('127.99', 'test');
    for (let i = 0; i < 256 * 253; i++) a.allocate(`k${i}`);
    expect(() => a.allocate('one-more')).toThrow(/no free test address/);
  });

  it('can bind addresses of the loopback range', async () => {
    await expect(assertLoopbackRange()).resolves.toBeUndefined();
    await expect(assertLoopbackRange('192.0.2.1')).rejects.toMatchObject({
      code: 'TWIN_LOOPBACK_UNAVAILABLE',
    });
  });
});

describe('address blocks: twins running at once never share addresses', () => {
  it('gives each claim its own block of third octets and frees it on release', () => {
    const a = claimAddressBlock();
    const b = claimAddressBlock();
    try {
      expect(a.index).not.toBe(b.index);
      expect(a.last - a.first + 1).toBe(BLOCK_OCTETS);
      const pods = podAddressAllocator();
      pods.narrow(b.first, b.last);
      for (let i = 0; i < 300; i++) {
        const third = Number(pods.allocate(`pod-${i}`).split('.')[2]);
        expect(third).toBeGreaterThanOrEqual(b.first);
        expect(third).toBeLessThanOrEqual(b.last);
      }
    } finally {
      a.release();
      b.release();
    }
    const c = claimAddressBlock();
    c.release();
    expect(c.index).toBeLessThanOrEqual(Math.max(a.index, b.index));
  });

  it('takes over a block whose owner has exited', () => {
    const dir = path.join(os.tmpdir(), 'infra-twin-address-blocks');
    const held: Array<{ release(): void }> = [];
    try {
      // A free block, then marked as held by a pid that does not run: the next claim takes it over.
      const probe = claimAddressBlock();
      probe.release();
      writeFileSync(path.join(dir, String(probe.index)), '999999999');
      const again = claimAddressBlock();
      held.push(again);
      expect(again.index).toBe(probe.index);
    } finally {
      for (const h of held) h.release();
    }
  });
});

describe('EmulatedPodAddresses', () => {
  it('holds 100,000 emulated pods in one twin, beyond the 4,048 bindable addresses of its block', () => {
    const a = new EmulatedPodAddresses(0);
    const ips = new Set<string>();
    for (let i = 0; i < 100_000; i++) ips.add(a.allocate(`pod-${i}`));
    expect(ips.size).toBe(100_000);
    expect(a.allocate('pod-7')).toBe(a.allocate('pod-7'));
    for (const ip of [...ips].slice(0, 1000)) {
      expect(ip).toMatch(/^127\.(12[89]|13[0-5])\.\d+\.\d+$/);
      expect(['0', '255']).not.toContain(ip.split('.')[3]);
    }
  });

  it('gives each address block its own /13, and releases and reserves by key', () => {
    const a = new EmulatedPodAddresses(0);
    const b = new EmulatedPodAddresses(15);
    expect(a.allocate('x')).toBe('127.128.0.1');
    expect(b.allocate('x')).toBe('127.248.0.1');
    expect(a.contains('127.248.0.1')).toBe(false);
    expect(a.reserve('y', '127.128.0.1')).toBe(false);
    a.release('x');
    expect(a.reserve('y', '127.128.0.1')).toBe(true);
    expect(a.reserve('z', '127.10.0.2')).toBe(false);
    expect(a.allocated).toBe(1);
  });
});
