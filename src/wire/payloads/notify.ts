/**
 * RFC 7296 3.10: Notify payload (N).
 *
 *   |  Protocol ID  |   SPI Size    |      Notify Message Type      |
 *   ~                Security Parameter Index (SPI)                 ~
 *   ~                       Notification Data                       ~
 *
 * The model keeps the raw fields; `notifyDataOf` / `notifyPayload` (notify-data.ts) are the typed
 * view. Decoding checks the data of the types ikekm interprets, so a decoded Notify always has a
 * typed view: a notify whose data does not fit its type is a ParseError ('bad-notify-data').
 */
import { PayloadType } from '../iana.js';
import { checkNotifyFields, type NotifyFields } from '../notify-data.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface NotifyPayload extends PayloadHeaderFields, NotifyFields {
  type: typeof PayloadType.N;
}

export function decodeNotifyBody(r: ByteReader): NotifyPayload {
  const protocolId = r.u8();
  const spiSize = r.u8();
  const notifyType = r.u16();
  const spiOffset = r.offset;
  const spi = r.bytes(spiSize);
  const dataOffset = r.offset;
  const data = r.rest();
  const p: NotifyPayload = { type: PayloadType.N, protocolId, spi, notifyType, data };
  const problem = checkNotifyFields(p);
  if (problem) r.fail('bad-notify-data', problem.reason, problem.field === 'spi' ? spiOffset : dataOffset);
  return p;
}

export function notifyBodyLength(p: NotifyPayload): number {
  return 4 + p.spi.length + p.data.length;
}

export function writeNotifyBody(w: ByteWriter, p: NotifyPayload): void {
  w.u8(p.protocolId, 'Protocol ID');
  w.u8(p.spi.length, 'SPI Size');
  w.u16(p.notifyType, 'Notify Message Type');
  w.bytes(p.spi);
  w.bytes(p.data);
}
