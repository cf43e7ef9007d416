/**
 * Bounds-checked big-endian reader over a window of a Buffer.
 *
 * Every read is checked against the window's end, which is the *declared* length of whatever is
 * being decoded (datagram, payload, proposal, ...), so a decoder can never read past a declared
 * length even when the datagram has more bytes. An overrun throws a `ParseError` ('truncated');
 * public decoders catch it with `catchParseError` and return it as a value.
 *
 * Offsets in errors are absolute: `base` is the offset of `buf[0]` in the original datagram,
 * which lets the plaintext of an SK payload report offsets that point into the datagram.
 *
 * Slices (`bytes`) are `subarray` views: no copy, so decoded messages alias their input.
 */
import { ParseError, type ParseErrorCode } from './parse-error.js';

export class ByteReader {
  private pos: number;

  /**
   * @param buf the bytes
   * @param start first readable index in `buf`
   * @param end one past the last readable index in `buf`
   * @param base absolute offset of `buf[0]` (for error offsets)
   * @param payloadType payload being decoded, reported in errors; undefined for the header
   */
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly base: number,
    public payloadType: number | undefined,
  ) {
    this.pos = start;
  }

  static of(bytes: Uint8Array, baseOffset = 0, payloadType?: number): ByteReader {
    const buf = toBuffer(bytes);
    return new ByteReader(buf, 0, buf.length, baseOffset, payloadType);
  }

  /** Absolute offset of the next byte to read. */
  get offset(): number {
    return this.base + this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos === this.end;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u24(): number {
    this.need(3);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 3;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    // Multiply instead of shifting the top byte: `<< 24` would go negative above 2^31.
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** The next `n` bytes as a view (no copy). */
  bytes(n: number): Buffer {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Everything up to the window's end, as a view. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /**
   * A reader over the next `n` bytes, which this reader then skips. Used for every
   * length-prefixed structure so its decoder cannot overrun the declared length.
   */
  sub(n: number, payloadType: number | undefined = this.payloadType): ByteReader {
    this.need(n);
    const r = new ByteReader(this.buf, this.pos, this.pos + n, this.base, payloadType);
    this.pos += n;
    return r;
  }

  /** A reader over what remains, with its own position: this one does not move. */
  fork(): ByteReader {
    return new ByteReader(this.buf, this.pos, this.end, this.base, this.payloadType);
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Throws a ParseError at the current offset (or at `offset`). */
  fail(code: ParseErrorCode, reason: string, offset: number = this.offset): never {
    throw new ParseError({ code, offset, payloadType: this.payloadType, reason });
  }

  private need(n: number): void {
    if (this.end - this.pos < n) {
      this.fail('truncated', `need ${n} byte(s), ${this.end - this.pos} left`);
    }
  }
}

/** A Buffer view of any Uint8Array, without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
