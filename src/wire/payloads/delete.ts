/**
 * RFC 7296 3.11: Delete payload (D).
 *
 *   | Protocol ID   |   SPI Size    |          Num of SPIs          |
 *   ~               Security Parameter Index(es) (SPI)              ~
 *
 * SPI Size is kept in the model: a Delete of the IKE SA has no SPIs, so it cannot be derived.
 * The body must be exactly 4 + SPI Size × Num of SPIs octets.
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface DeletePayload extends PayloadHeaderFields {
  type: typeof PayloadType.D;
  /** ProtocolId: IKE (SPI Size 0, no SPIs — the SA the message is protected by), AH or ESP. */
  protocolId: number;
  spiSize: number;
  spis: Buffer[];
}

export function decodeDeleteBody(r: ByteReader): DeletePayload {
  const protocolId = r.u8();
  const spiSize = r.u8();
  const countOffset = r.offset;
  const numSpis = r.u16();
  if (spiSize * numSpis !== r.remaining) {
    r.fail(
      'length-mismatch',
      `Num of SPIs ${numSpis} × SPI Size ${spiSize} = ${spiSize * numSpis} octets, payload has ${r.remaining}`,
      countOffset,
    );
  }
  const spis: Buffer[] = new Array<Buffer>(numSpis);
  for (let i = 0; i < numSpis; i++) spis[i] = r.bytes(spiSize);
  return { type: PayloadType.D, protocolId, spiSize, spis };
}

export function deleteBodyLength(p: DeletePayload): number {
  return 4 + p.spiSize * p.spis.length;
}

export function writeDeleteBody(w: ByteWriter, p: DeletePayload): void {
  w.u8(p.protocolId, 'Protocol ID');
  w.u8(p.spiSize, 'SPI Size');
  w.u16(p.spis.length, 'Num of SPIs');
  for (const spi of p.spis) {
    if (spi.length !== p.spiSize) throw new RangeError(`Delete SPI of ${spi.length} octets, SPI Size is ${p.spiSize}`);
    w.bytes(spi);
  }
}

/** Delete of Child SAs (ESP or AH, 4-octet SPIs) or, with no SPIs, of the IKE SA itself. */
export function deletePayload(protocolId: number, spis: Buffer[]): DeletePayload {
  return { type: PayloadType.D, protocolId, spiSize: spis[0]?.length ?? 0, spis };
}
