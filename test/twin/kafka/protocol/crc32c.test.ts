import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../../twin/kafka/protocol/crc32c.ts';

// RFC 3720 (iSCSI), appendix B.4: CRC-32C test vectors, and the usual "123456789" check value.
describe('crc32c', () => {
  it('matches the RFC 3720 B.4 test vectors', () => {
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('gives the same result on any alignment and range (the slicing-by-8 path and the byte path agree)', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    const bytewise = (b: Buffer) => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    for (const [s, e] of [
      [0, 1000],
      [3, 997],
      [1, 2],
      [5, 13],
    ] as const)
      expect(crc32c(data, s, e)).toBe(bytewise(data.subarray(s, e)));
  });
});
