/**
 * The IKEv2 wire codec: bytes ⇄ typed messages, strict, total, no crypto.
 * See message.ts for the design decisions (unknown payloads, RESERVED bits, aliasing).
 */
export * from './iana.js';
export { exchangeTypeName, notifyTypeName, payloadTypeName } from './iana-names.js';
export { ParseError, type ParseErrorCode, type ParseErrorInit } from './parse-error.js';
export * from './decode-limits.js';
export { ByteReader, toBuffer } from './reader.js';
export {
  IKE_HEADER_LENGTH,
  IKE_SPI_LENGTH,
  IKEV2_MAJOR_VERSION,
  encodeHeader,
  isNewIkeSaInitRequest,
  readHeader,
  type IkeHeader,
  type IkeHeaderFlags,
} from './header.js';
export {
  MAX_PAYLOAD_LENGTH,
  PAYLOAD_HEADER_LENGTH,
  encodePayloadHeader,
  type PayloadHeaderFields,
} from './payload-header.js';
export {
  findPayload,
  findPayloads,
  isEncryptedPayload,
  isKnownPayloadType,
  isUnknownPayload,
  type KnownPayload,
  type KnownPayloadType,
  type Payload,
  type PayloadOf,
} from './payload.js';
export { decodePayloadChain, encodePayloadChain } from './payload-chain.js';
export { decodeMessage, encodeMessage, firstUnsupportedCriticalPayload, ikeMessage, type IkeMessage } from './message.js';
export { peekIkeSaInitRequest, type IkeSaInitPeek } from './ike-sa-init-peek.js';
export { encodeSkPrefix, encodeSkfPrefix, type SkfPrefixFields } from './sk-prefix.js';
export {
  NATT_KEEPALIVE,
  NON_ESP_MARKER,
  NON_ESP_MARKER_LENGTH,
  classifyNattDatagram,
  encodeNattIke,
  type NattDatagram,
} from './natt.js';
export { NotifyType, NOTIFY_STATUS_FLOOR, isNotifyError } from './notify-types.js';
export {
  COOKIE_MAX_LENGTH,
  COOKIE_MIN_LENGTH,
  NAT_DETECTION_HASH_LENGTH,
  checkNotifyFields,
  notifyDataOf,
  notifyPayload,
  type FlagNotifyName,
  type NotifyData,
  type NotifyProblem,
} from './notify-data.js';
export { canonicalIp, formatIp, parseIp } from './ip-address.js';
export { ESP_SPI_LENGTH, espSpiBuffer, espSpiHex, espSpiNumber, ikeSpiHex, parseEspSpiHex } from './spi-text.js';

export {
  keyLengthAttribute,
  keyLengthOf,
  saPayload,
  transform,
  type Proposal,
  type SaPayload,
  type Transform,
  type TransformAttribute,
} from './payloads/sa.js';
export { kePayload, type KePayload } from './payloads/key-exchange.js';
export { encodeIdentity, idPayload, identityOf, type IdPayload, type Identity } from './payloads/identification.js';
export {
  certPayload,
  certReqAuthorityHashes,
  certReqPayload,
  type CertPayload,
  type CertReqPayload,
} from './payloads/certificate.js';
export { authPayload, type AuthPayload } from './payloads/authentication.js';
export { NONCE_MAX_LENGTH, NONCE_MIN_LENGTH, noncePayload, type NoncePayload } from './payloads/nonce.js';
export { type NotifyPayload } from './payloads/notify.js';
export { deletePayload, type DeletePayload } from './payloads/delete.js';
export { vendorIdPayload, type VendorIdPayload } from './payloads/vendor-id.js';
export {
  addressRange,
  isAddressRange,
  tsPayload,
  type AddressRangeOptions,
  type AddressRangeSelector,
  type OpaqueSelector,
  type TrafficSelector,
  type TsPayload,
} from './payloads/traffic-selector.js';
export { skPayload, type SkPayload } from './payloads/encrypted.js';
export { SKF_FRAGMENT_FIELDS_LENGTH, skfPayload, type SkfPayload } from './payloads/encrypted-fragment.js';
export { cpPayload, type ConfigurationAttribute, type CpPayload } from './payloads/configuration.js';
export { EapCode, eapHeaderOf, eapPayload, type EapHeader, type EapPayload } from './payloads/eap.js';
export { type UnknownPayload } from './payloads/unknown.js';
