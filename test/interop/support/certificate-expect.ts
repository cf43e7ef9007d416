/**
 * What the certificate interop files read back from both sides and from the wire:
 * - charon's verdicts, from its log: `authentication of 'ID' [(myself)] with METHOD successful`,
 *   where METHOD is a signature scheme for Digital Signature (RFC 7427, e.g.
 *   RSA_EMSA_PKCS1_SHA2_256, ECDSA_WITH_SHA256_DER) and the method's name otherwise (`RSA
 *   signature` for method 1, `ECDSA-256 signature` for method 9);
 * - ikekm's, from its log records `IKE_AUTH done: IKE SA established` (initiator) and
 *   `IKE_AUTH answered: IKE SA established` (responder), whose `method` names the peer's scheme,
 *   AUTH method and certificate;
 * - each IKE_AUTH message as tshark decrypted it with ikekm's key table: its AUTH method (RFC
 *   7296 3.8), its CERT and CERTREQ payloads, and whether it went as SKF fragments (RFC 7383)
 *   and how large each datagram was.
 */
import { expect } from 'vitest';
import type { TsharkFields } from '../../support/tshark.js';
import { EXCHANGE, PAYLOAD, first } from './ikekm-expect.js';

/** AUTH methods as tshark prints them (RFC 7296 3.8, RFC 4754, RFC 7427). */
export const AUTH_METHOD = { RSA_DIGITAL_SIGNATURE: '1', SHARED_KEY_MIC: '2', ECDSA_SHA256_P256: '9', DIGITAL_SIGNATURE: '14' } as const;

/** Payload types beyond ikekm-expect's PAYLOAD (RFC 7296 3.2, RFC 7383 2.5). */
export const CERT_PAYLOAD = { CERT: '37', CERTREQ: '38', SKF: '53' } as const;

export const CERTIFICATE_TSHARK_FIELDS = [
  'frame.number',
  'ip.src',
  'ip.len',
  'udp.srcport',
  'udp.dstport',
  'isakmp.ispi',
  'isakmp.exchangetype',
  'isakmp.flag_r',
  'isakmp.typepayload',
  'isakmp.auth.method',
  'isakmp.id.type',
  'isakmp.cert.encoding',
  'isakmp.frag.number',
  'isakmp.frag.total',
  '_ws.malformed',
  '_ws.expert.message',
] as const;

/** One of charon's authentication verdicts. */
export interface CharonAuthentication {
  readonly id: string;
  readonly myself: boolean;
  readonly method: string;
}

/** charon's successful authentications in `logText`, in order. */
export function charonAuthentications(logText: string): CharonAuthentication[] {
  return [...logText.matchAll(/authentication of '([^']*)' (\(myself\) )?with (.+?) successful/g)].map((m) => ({ id: m[1] ?? '', myself: m[2] !== undefined, method: m[3] ?? '' }));
}

/** ikekm's pino records with this message (log lines as JSON text, or parsed). */
export function ikekmRecords(lines: readonly (string | Record<string, unknown>)[], msg: string): Record<string, unknown>[] {
  return lines.map((l) => (typeof l === 'string' ? (JSON.parse(l) as Record<string, unknown>) : l)).filter((r) => r.msg === msg);
}

/** One IKE_AUTH message as it went over the wire. */
export interface WireIkeAuthMessage {
  /** The AUTH method of the (reassembled, decrypted) message. */
  readonly authMethod: string | undefined;
  /** Payload types inside SK/SKF, as tshark lists them (outer SK or SKF first). */
  readonly payloads: readonly string[];
  /** How many CERT payloads, and their encodings (4: X.509 Certificate - Signature). */
  readonly certEncodings: readonly string[];
  readonly certReq: boolean;
  /** Datagrams it took: 1 for SK, the fragment count for SKF. */
  readonly datagrams: number;
  readonly fragmented: boolean;
  /** The largest IP datagram (IP and UDP headers included) of the message. */
  readonly largestIpLength: number;
}

export interface WireIkeAuth {
  readonly spiI: string;
  readonly request: WireIkeAuthMessage;
  readonly response: WireIkeAuthMessage | undefined;
  /** The source address of the request: the initiator. */
  readonly initiator: string;
}

const isResponse = (p: TsharkFields): boolean => ['1', 'True', 'true'].includes(first(p, 'isakmp.flag_r') ?? '');

function message(frames: readonly TsharkFields[]): WireIkeAuthMessage | undefined {
  // A fragmented message: every SKF datagram, the last one carrying the reassembled payloads.
  const complete = frames.find((p) => (p['isakmp.typepayload'] ?? []).includes(PAYLOAD.AUTH));
  if (complete === undefined) return undefined;
  const payloads = complete['isakmp.typepayload'] ?? [];
  const fragmented = payloads[0] === CERT_PAYLOAD.SKF;
  const datagrams = fragmented ? Number(first(complete, 'isakmp.frag.total') ?? '0') : 1;
  return {
    authMethod: first(complete, 'isakmp.auth.method'),
    payloads,
    certEncodings: complete['isakmp.cert.encoding'] ?? [],
    certReq: payloads.includes(CERT_PAYLOAD.CERTREQ),
    datagrams,
    fragmented,
    largestIpLength: Math.max(...frames.map((p) => Number(first(p, 'ip.len') ?? '0'))),
  };
}

/**
 * Every IKE_AUTH exchange in the dissection, by initiator SPI. Retransmissions are not told
 * apart (none happen in the lab); a fragmented message's datagrams are all counted.
 */
export function ikeAuthOnWire(packets: readonly TsharkFields[]): Map<string, WireIkeAuth> {
  const bySpi = new Map<string, TsharkFields[]>();
  for (const p of packets) {
    if (first(p, 'isakmp.exchangetype') !== EXCHANGE.IKE_AUTH) continue;
    const spi = first(p, 'isakmp.ispi') ?? '';
    bySpi.set(spi, [...(bySpi.get(spi) ?? []), p]);
  }
  const out = new Map<string, WireIkeAuth>();
  for (const [spiI, frames] of bySpi) {
    const requests = frames.filter((p) => !isResponse(p));
    const request = message(requests);
    if (request === undefined) continue;
    out.set(spiI, { spiI, request, response: message(frames.filter(isResponse)), initiator: first(requests[0]!, 'ip.src') ?? '' });
  }
  return out;
}

/**
 * The IKE_AUTH of the IKE SA `spiI` decrypted with ikekm's table, each message signed with the
 * AUTH method expected of its author, the end entity's certificate (and intermediates) in CERT
 * payloads as X.509 Certificate - Signature (RFC 7296 3.6).
 */
export function expectIkeAuthOnWire(
  exchanges: ReadonlyMap<string, WireIkeAuth>,
  spiI: string,
  expected: { readonly request: string; readonly response: string; readonly requestCerts?: number; readonly responseCerts?: number },
): WireIkeAuth {
  const exchange = exchanges.get(spiI);
  expect(exchange, `IKE_AUTH of IKE SA ${spiI} decrypted`).toBeDefined();
  const { request, response } = exchange!;
  expect(response, `IKE_AUTH response of IKE SA ${spiI} decrypted`).toBeDefined();
  expect(request.authMethod, `IKE_AUTH request of ${spiI}: AUTH method`).toBe(expected.request);
  expect(response?.authMethod, `IKE_AUTH response of ${spiI}: AUTH method`).toBe(expected.response);
  for (const [m, count] of [
    [request, expected.requestCerts ?? 1],
    [response, expected.responseCerts ?? 1],
  ] as const) {
    expect(m?.payloads).toEqual(expect.arrayContaining([PAYLOAD.AUTH, PAYLOAD.SA, PAYLOAD.TSi, PAYLOAD.TSr, CERT_PAYLOAD.CERT]));
    expect(m?.certEncodings).toEqual(Array.from({ length: count }, () => '4'));
  }
  // The initiator asks for the responder's certificate (3.7); the responder asked in IKE_SA_INIT.
  expect(request.certReq).toBe(true);
  return exchange!;
}
