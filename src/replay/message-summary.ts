/**
 * A datagram as one line for a person reading a divergence (`ikekm replay`): its exchange,
 * request or response, Message ID, SPIs, payloads by name (a Notify with its type) and size; a
 * protected message's inner payloads too when the keys of its IKE SA are given, as the replay has
 * them at that point.
 */
import type { SkProtection } from '../crypto/sk-payload.js';
import { decodeProtectedMessage } from '../ikev2/protected-message.js';
import { PayloadType, decodeMessage, exchangeTypeName, ikeSpiHex, notifyTypeName, payloadTypeName, type Payload } from '../wire/index.js';

/** `N(NO_PROPOSAL_CHOSEN)`, `SA`, `payload 99`. */
function payloadName(p: Payload): string {
  if (p.type === PayloadType.N && 'notifyType' in p) return `N(${notifyTypeName(p.notifyType)})`;
  return payloadTypeName(p.type);
}

/**
 * `IKE_AUTH response, Message ID 1, SPIs 68ad…/02fe…, payloads [SK{IDr, AUTH, SA, TSi, TSr}], 212 octets`.
 * `protection`: the sender's keys on its IKE SA; without them an SK payload is shown as `SK`.
 */
export function summarizeMessage(bytes: Uint8Array, protection?: SkProtection): string {
  const m = decodeMessage(bytes);
  if (!m.ok) return `${bytes.length} octets that do not decode (${m.error.message})`;
  const h = m.value.header;
  const exchange = exchangeTypeName(h.exchangeType);
  let payloads = m.value.payloads.map(payloadName);
  const last = m.value.payloads.at(-1);
  if (protection !== undefined && last?.type === PayloadType.SK) {
    const opened = decodeProtectedMessage(bytes, protection);
    const inner = opened.ok ? `SK{${opened.value.inner.map(payloadName).join(', ')}}` : `SK (does not open with the SA's keys: ${opened.error.kind})`;
    payloads = [...payloads.slice(0, -1), inner];
  }
  return `${exchange} ${h.flags.response ? 'response' : 'request'}, Message ID ${h.messageId}, SPIs ${ikeSpiHex(h.spiI)}/${ikeSpiHex(h.spiR)}, payloads [${payloads.join(', ')}], ${bytes.length} octets`;
}
