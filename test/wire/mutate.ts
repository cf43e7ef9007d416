/**
 * Copies of a test vector with fields overwritten at *absolute* offsets, for vectors that sit
 * at `base` in an imaginary datagram (payload tests decode with a base offset of 28).
 */
export function withU8(bytes: Buffer, base: number, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset - base] = value;
  return copy;
}

export function withU16(bytes: Buffer, base: number, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt16BE(value, offset - base);
  return copy;
}
