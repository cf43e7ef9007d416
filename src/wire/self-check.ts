/**
 * Codec self-checks for `ikekm selfcheck`: fixed vectors laid out from RFC 7296 section 3 and
 * RFC 3948, run through the codec. Same shape as the crypto known-answer cases
 * (src/crypto/known-answers/types.ts) — declared here structurally so that the wire layer does
 * not depend on the crypto layer. test/wire/self-check.test.ts asserts that every check passes.
 */
import { ExchangeType, PayloadType } from './iana.js';
import { decodeMessage, encodeMessage, firstUnsupportedCriticalPayload } from './message.js';
import { classifyNattDatagram, encodeNattIke } from './natt.js';
import { notifyDataOf } from './notify-data.js';
import { findPayload } from './payload.js';
import { encodeSkPrefix } from './sk-prefix.js';

export interface CodecSelfCheck {
  readonly algorithm: string;
  readonly source: string;
  run(): { readonly ok: boolean; readonly detail?: string };
}

function fromHex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** An IKE_SA_INIT request: HDR, SA (one IKE proposal, 4 transforms), KE (group 19), Ni, N(NAT_DETECTION_SOURCE_IP). */
export const IKE_SA_INIT_VECTOR: Buffer = fromHex(`
  a1a2a3a4a5a6a7a8 0000000000000000 21 20 22 08 00000000 000000d4
  22000030 0000002c 01010004 0300000c 0100000c 800e0100 03000008 02000005 03000008 0300000c 00000008 04000013
  28000048 00130000 ${'4b'.repeat(64)}
  29000024 ${'4e'.repeat(32)}
  0000001c 00004004 ${'53'.repeat(20)}
`);

function check(condition: boolean, detail: string): { ok: boolean; detail?: string } {
  return condition ? { ok: true } : { ok: false, detail };
}

/** Runs a check body; a codec that throws here fails the row instead of crashing the table. */
function guarded(body: () => { ok: boolean; detail?: string }): { ok: boolean; detail?: string } {
  try {
    return body();
  } catch (e) {
    return { ok: false, detail: `threw: ${(e as Error).message}` };
  }
}

export const codecSelfChecks: readonly CodecSelfCheck[] = [
  {
    algorithm: 'IKEv2 codec: IKE_SA_INIT decode',
    source: 'RFC 7296 3.1-3.10 layouts',
    run: () =>
      guarded(() => {
        const r = decodeMessage(IKE_SA_INIT_VECTOR);
        if (!r.ok) return { ok: false, detail: r.error.message };
        const { header, payloads } = r.value;
        const sa = findPayload(payloads, PayloadType.SA);
        const ke = findPayload(payloads, PayloadType.KE);
        const n = findPayload(payloads, PayloadType.N);
        return check(
          header.exchangeType === ExchangeType.IKE_SA_INIT &&
            header.flags.initiator &&
            sa?.proposals[0]?.transforms.length === 4 &&
            ke?.dhGroup === 19 &&
            ke.keData.length === 64 &&
            n !== undefined &&
            notifyDataOf(n)?.name === 'NAT_DETECTION_SOURCE_IP',
          'decoded fields differ from the vector',
        );
      }),
  },
  {
    algorithm: 'IKEv2 codec: exact re-encode',
    source: 'RFC 7296 3 (round trip)',
    run: () =>
      guarded(() => {
        const r = decodeMessage(IKE_SA_INIT_VECTOR);
        if (!r.ok) return { ok: false, detail: r.error.message };
        return check(encodeMessage(r.value).equals(IKE_SA_INIT_VECTOR), 'encodeMessage(decodeMessage(x)) != x');
      }),
  },
  {
    algorithm: 'IKEv2 codec: truncation is a ParseError',
    source: 'RFC 7296 3.1 Length',
    run: () =>
      guarded(() => {
        for (let n = 0; n < IKE_SA_INIT_VECTOR.length; n++) {
          if (decodeMessage(IKE_SA_INIT_VECTOR.subarray(0, n)).ok) return { ok: false, detail: `accepted ${n} octets` };
        }
        return { ok: true };
      }),
  },
  {
    algorithm: 'IKEv2 codec: unknown critical payload',
    source: 'RFC 7296 2.5',
    run: () =>
      guarded(() => {
        const bytes = fromHex('a1a2a3a4a5a6a7a8 b1b2b3b4b5b6b7b8 fd 20 25 20 00000002 00000021 00 80 00 05 01');
        const r = decodeMessage(bytes);
        if (!r.ok) return { ok: false, detail: r.error.message };
        return check(firstUnsupportedCriticalPayload(r.value.payloads) === 253, 'critical payload 253 not reported');
      }),
  },
  {
    algorithm: 'IKEv2 codec: SK prefix',
    source: 'RFC 7296 3.14, RFC 5282 5.1',
    run: () =>
      guarded(() => {
        const r = decodeMessage(IKE_SA_INIT_VECTOR);
        if (!r.ok) return { ok: false, detail: r.error.message };
        const body = Buffer.alloc(32, 0xe5);
        const message = encodeMessage({ header: r.value.header, payloads: [{ type: PayloadType.SK, firstInnerPayload: 35, body }] });
        const prefix = encodeSkPrefix(r.value.header, [], body.length, 35);
        return check(Buffer.concat([prefix, body]).equals(message), 'prefix || body != encoded message');
      }),
  },
  {
    algorithm: 'NAT-T framing: marker, keepalive, ESP',
    source: 'RFC 3948 2.1-2.3',
    run: () =>
      guarded(() => {
        const ike = classifyNattDatagram(encodeNattIke(IKE_SA_INIT_VECTOR));
        const keepalive = classifyNattDatagram(Buffer.from([0xff]));
        const esp = classifyNattDatagram(fromHex('c0ffee01 00000001 00'));
        return check(
          ike.ok && ike.value.kind === 'ike' && keepalive.ok && keepalive.value.kind === 'keepalive' && esp.ok && esp.value.kind === 'esp',
          'datagram classified wrongly',
        );
      }),
  },
];
