/**
 * RFC 7296 3.12: Vendor ID payload (V).
 *
 *   ~                        Vendor ID (VID)                        ~
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

export interface VendorIdPayload extends PayloadHeaderFields {
  type: typeof PayloadType.V;
  data: Buffer;
}

export function decodeVendorIdBody(r: ByteReader): VendorIdPayload {
  return { type: PayloadType.V, data: r.rest() };
}

export function vendorIdBodyLength(p: VendorIdPayload): number {
  return p.data.length;
}

export function writeVendorIdBody(w: ByteWriter, p: VendorIdPayload): void {
  w.bytes(p.data);
}

export function vendorIdPayload(data: Buffer): VendorIdPayload {
  return { type: PayloadType.V, data };
}
