/**
 * Kafka's primitive types (https://kafka.apache.org/protocol#protocol_types): big-endian fixed-width
 * integers, zig-zag varints (records), unsigned varints (compact lengths, tagged fields), strings,
 * bytes and arrays in their classic (int16/int32 length, -1 = null) and compact (uvarint length + 1,
 * 0 = null) encodings, and UUIDs.
 */

export class KafkaProtocolError extends Error {
  override name = 'KafkaProtocolError';
}

export class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.offset + n > this.buf.length)
      throw new KafkaProtocolError(
        `truncated message: need ${n} bytes at ${this.offset} of ${this.buf.length}`,
      );
  }
  remaining(): number {
    return this.buf.length - this.offset;
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  /** int64 as a number: offsets, timestamps and producer ids stay below 2^53 in practice. */
  int64(): number {
    this.need(8);
    const v = Number(this.buf.readBigInt64BE(this.offset));
    this.offset += 8;
    return v;
  }
  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.offset++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new KafkaProtocolError('varint too long');
    }
  }
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  bytesRaw(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
  string(): string | null {
    const n = this.int16();
    return n < 0 ? null : this.bytesRaw(n).toString('utf8');
  }
  compactString(): string | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.bytesRaw(n).toString('utf8');
  }
  bytes(): Buffer | null {
    const n = this.int32();
    return n < 0 ? null : this.bytesRaw(n);
  }
  compactBytes(): Buffer | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : this.bytesRaw(n);
  }
  uuid(): string {
    return this.bytesRaw(16).toString('hex');
  }
}

/** A growable buffer writer. */
export class Writer {
  private buf: Buffer;
  offset = 0;
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }
  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset++);
    return this;
  }
  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }
  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }
  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }
  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.offset);
    this.offset += 4;
    return this;
  }
  int64(v: number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.offset);
    this.offset += 8;
    return this;
  }
  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += 8;
    return this;
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  uvarint(v: number): this {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.offset++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.offset++] = v;
    return this;
  }
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    return this.int16(b.length).raw(b);
  }
  compactString(v: string | null): this {
    if (v === null) return this.uvarint(0);
    const b = Buffer.from(v, 'utf8');
    return this.uvarint(b.length + 1).raw(b);
  }
  bytes(v: Uint8Array | null): this {
    if (v === null) return this.int32(-1);
    return this.int32(v.length).raw(v);
  }
  compactBytes(v: Uint8Array | null): this {
    if (v === null) return this.uvarint(0);
    return this.uvarint(v.length + 1).raw(v);
  }
  uuid(v: string): this {
    const b = Buffer.from(v.padStart(32, '0'), 'hex');
    if (b.length !== 16) throw new KafkaProtocolError(`invalid uuid ${v}`);
    return this.raw(b);
  }
  /** Reserves n bytes and returns their position, for lengths written afterwards. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.offset;
    this.offset += n;
    return at;
  }
  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }
  patchUint32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }
  view(from: number, to: number): Buffer {
    return this.buf.subarray(from, to);
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.offset);
  }
}

/** The all-zero UUID Kafka uses for "no topic id". */
export const ZERO_UUID = '0'.repeat(32);
