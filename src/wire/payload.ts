/**
 * The `Payload` union and the per-type dispatch (decode body, body length, write body).
 *
 * `Payload` is discriminated on `type` (PayloadType values) for the known payloads; an
 * `UnknownPayload` carries `unknown: true` and is told apart with `isUnknownPayload`, after
 * which a `switch (p.type)` narrows to one known payload and is checked for exhaustiveness.
 */
import { assertNever } from './assert-never.js';
import { PayloadType } from './iana.js';
import type { ByteReader } from './reader.js';
import type { ByteWriter } from './writer.js';
import { decodeAuthBody, authBodyLength, writeAuthBody, type AuthPayload } from './payloads/authentication.js';
import {
  certBodyLength,
  certReqBodyLength,
  decodeCertBody,
  decodeCertReqBody,
  writeCertBody,
  writeCertReqBody,
  type CertPayload,
  type CertReqPayload,
} from './payloads/certificate.js';
import { cpBodyLength, decodeCpBody, writeCpBody, type CpPayload } from './payloads/configuration.js';
import { decodeDeleteBody, deleteBodyLength, writeDeleteBody, type DeletePayload } from './payloads/delete.js';
import { decodeEapBody, eapBodyLength, writeEapBody, type EapPayload } from './payloads/eap.js';
import { decodeSkfBody, skfBodyLength, writeSkfBody, type SkfPayload } from './payloads/encrypted-fragment.js';
import { decodeSkBody, skBodyLength, writeSkBody, type SkPayload } from './payloads/encrypted.js';
import { decodeIdBody, idBodyLength, writeIdBody, type IdPayload } from './payloads/identification.js';
import { decodeKeBody, keBodyLength, writeKeBody, type KePayload } from './payloads/key-exchange.js';
import { decodeNonceBody, nonceBodyLength, writeNonceBody, type NoncePayload } from './payloads/nonce.js';
import { decodeNotifyBody, notifyBodyLength, writeNotifyBody, type NotifyPayload } from './payloads/notify.js';
import { decodeSaBody, saBodyLength, writeSaBody, type SaPayload } from './payloads/sa.js';
import { decodeTsBody, tsBodyLength, writeTsBody, type TsPayload } from './payloads/traffic-selector.js';
import { unknownBodyLength, writeUnknownBody, type UnknownPayload } from './payloads/unknown.js';
import { decodeVendorIdBody, vendorIdBodyLength, writeVendorIdBody, type VendorIdPayload } from './payloads/vendor-id.js';

export type KnownPayload =
  | SaPayload
  | KePayload
  | IdPayload
  | CertPayload
  | CertReqPayload
  | AuthPayload
  | NoncePayload
  | NotifyPayload
  | DeletePayload
  | VendorIdPayload
  | TsPayload
  | SkPayload
  | CpPayload
  | EapPayload
  | SkfPayload;

export type Payload = KnownPayload | UnknownPayload;

/** Payload types with a model here: every PayloadType but NONE. */
export type KnownPayloadType = KnownPayload['type'];

/**
 * The payload model for a type, e.g. `PayloadOf<typeof PayloadType.SA>` is `SaPayload`. A model
 * may serve several types (`TsPayload` is TSi and TSr), so this asks which model's `type` admits
 * T, not which equals it.
 */
export type PayloadOf<T extends KnownPayloadType> = PayloadAdmitting<KnownPayload, T>;
type PayloadAdmitting<P, T> = P extends { type: infer U } ? (T extends U ? P : never) : never;

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(PayloadType).filter((t) => t !== PayloadType.NONE));

export function isKnownPayloadType(type: number): type is KnownPayloadType {
  return KNOWN_TYPES.has(type);
}

export function isUnknownPayload(p: Payload): p is UnknownPayload {
  return (p as UnknownPayload).unknown === true;
}

/** RFC 7296 3.14 / RFC 7383 2.5: SK and SKF end the chain; their Next Payload names the first inner payload. */
export function isEncryptedPayload(p: Payload): p is SkPayload | SkfPayload {
  return !isUnknownPayload(p) && (p.type === PayloadType.SK || p.type === PayloadType.SKF);
}

/**
 * Decodes the body of a known payload. `r` spans exactly the body (after the generic header);
 * `nextPayload` is only meaningful for SK/SKF, where it is the first inner payload type.
 */
export function decodeKnownBody(r: ByteReader, type: KnownPayloadType, nextPayload: number): KnownPayload {
  switch (type) {
    case PayloadType.SA:
      return decodeSaBody(r);
    case PayloadType.KE:
      return decodeKeBody(r);
    case PayloadType.IDi:
    case PayloadType.IDr:
      return decodeIdBody(r, type);
    case PayloadType.CERT:
      return decodeCertBody(r);
    case PayloadType.CERTREQ:
      return decodeCertReqBody(r);
    case PayloadType.AUTH:
      return decodeAuthBody(r);
    case PayloadType.Nonce:
      return decodeNonceBody(r);
    case PayloadType.N:
      return decodeNotifyBody(r);
    case PayloadType.D:
      return decodeDeleteBody(r);
    case PayloadType.V:
      return decodeVendorIdBody(r);
    case PayloadType.TSi:
    case PayloadType.TSr:
      return decodeTsBody(r, type);
    case PayloadType.SK:
      return decodeSkBody(r, nextPayload);
    case PayloadType.CP:
      return decodeCpBody(r);
    case PayloadType.EAP:
      return decodeEapBody(r);
    case PayloadType.SKF:
      return decodeSkfBody(r, nextPayload);
    default:
      return assertNever(type, 'payload type');
  }
}

/** Octets after the generic header. */
export function payloadBodyLength(p: Payload): number {
  if (isUnknownPayload(p)) return unknownBodyLength(p);
  switch (p.type) {
    case PayloadType.SA:
      return saBodyLength(p);
    case PayloadType.KE:
      return keBodyLength(p);
    case PayloadType.IDi:
    case PayloadType.IDr:
      return idBodyLength(p);
    case PayloadType.CERT:
      return certBodyLength(p);
    case PayloadType.CERTREQ:
      return certReqBodyLength(p);
    case PayloadType.AUTH:
      return authBodyLength(p);
    case PayloadType.Nonce:
      return nonceBodyLength(p);
    case PayloadType.N:
      return notifyBodyLength(p);
    case PayloadType.D:
      return deleteBodyLength(p);
    case PayloadType.V:
      return vendorIdBodyLength(p);
    case PayloadType.TSi:
    case PayloadType.TSr:
      return tsBodyLength(p);
    case PayloadType.SK:
      return skBodyLength(p);
    case PayloadType.CP:
      return cpBodyLength(p);
    case PayloadType.EAP:
      return eapBodyLength(p);
    case PayloadType.SKF:
      return skfBodyLength(p);
    default:
      return assertNever(p, 'payload');
  }
}

export function writePayloadBody(w: ByteWriter, p: Payload): void {
  if (isUnknownPayload(p)) return writeUnknownBody(w, p);
  switch (p.type) {
    case PayloadType.SA:
      return writeSaBody(w, p);
    case PayloadType.KE:
      return writeKeBody(w, p);
    case PayloadType.IDi:
    case PayloadType.IDr:
      return writeIdBody(w, p);
    case PayloadType.CERT:
      return writeCertBody(w, p);
    case PayloadType.CERTREQ:
      return writeCertReqBody(w, p);
    case PayloadType.AUTH:
      return writeAuthBody(w, p);
    case PayloadType.Nonce:
      return writeNonceBody(w, p);
    case PayloadType.N:
      return writeNotifyBody(w, p);
    case PayloadType.D:
      return writeDeleteBody(w, p);
    case PayloadType.V:
      return writeVendorIdBody(w, p);
    case PayloadType.TSi:
    case PayloadType.TSr:
      return writeTsBody(w, p);
    case PayloadType.SK:
      return writeSkBody(w, p);
    case PayloadType.CP:
      return writeCpBody(w, p);
    case PayloadType.EAP:
      return writeEapBody(w, p);
    case PayloadType.SKF:
      return writeSkfBody(w, p);
    default:
      return assertNever(p, 'payload');
  }
}

/** The first payload of a type, typed: `findPayload(msg.payloads, PayloadType.SA)` is `SaPayload | undefined`. */
export function findPayload<T extends KnownPayloadType>(payloads: readonly Payload[], type: T): PayloadOf<T> | undefined {
  for (const p of payloads) if (p.type === type && !isUnknownPayload(p)) return p as PayloadOf<T>;
  return undefined;
}

/** Every payload of a type, in order. */
export function findPayloads<T extends KnownPayloadType>(payloads: readonly Payload[], type: T): PayloadOf<T>[] {
  const out: PayloadOf<T>[] = [];
  for (const p of payloads) if (p.type === type && !isUnknownPayload(p)) out.push(p as PayloadOf<T>);
  return out;
}
