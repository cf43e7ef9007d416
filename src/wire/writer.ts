/**
 * Big-endian writer into a preallocated Buffer.
 *
 * Encoders first compute the exact encoded size, then write once into a zero-filled buffer: one
 * allocation per message, no concatenation. Values out of a field's range are a programming error
 * in the model being encoded (not hostile input), so they throw a RangeError.
 */
export class ByteWriter {
  private pos = 0;
  readonly buf: Buffer;

  constructor(size: number) {
    // alloc, not allocUnsafe: a missed byte must never leak process memory onto the wire.
    this.buf = Buffer.alloc(size);
  }

  get offset(): number {
    return this.pos;
  }

  u8(v: number, field = 'u8'): void {
    checkRange(v, 0xff, field);
    this.buf[this.pos++] = v;
  }

  u16(v: number, field = 'u16'): void {
    checkRange(v, 0xffff, field);
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u24(v: number, field = 'u24'): void {
    checkRange(v, 0xffffff, field);
    this.buf[this.pos++] = v >>> 16;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number, field = 'u32'): void {
    checkRange(v, 0xffffffff, field);
    this.buf[this.pos++] = v >>> 24;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Checks that exactly the precomputed size was written (an encoder/size-function mismatch is a bug). */
  finish(): Buffer {
    if (this.pos !== this.buf.length) {
      throw new Error(`internal: wrote ${this.pos} of ${this.buf.length} bytes`);
    }
    return this.buf;
  }
}

export function checkRange(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`${field} = ${v} is outside 0..${max}`);
  }
}
