/**
 * What the "ikekm vs strongSwan" interop files check, in one place:
 * - both sides agree on an SA (state, SPIs, algorithms, traffic selectors) — ikekm's engine
 *   status against charon's `swanctl --list-sas`;
 * - the keys match — ikekm's key tables (esp_sa from KeylogKernel, ikev2_decryption_table)
 *   against the keys charon logged at level 4;
 * - tshark, given only ikekm's tables, decrypts what was on the wire;
 * - ikekm's log holds no secret.
 */
import { expect } from 'vitest';
import type { IkeSaStatus } from '../../../src/engine/ike-engine.js';
import { parseEspSpiHex } from '../../../src/wire/spi-text.js';
import type { ChildSaKeys, DerivedKeys, IkeSaKeys } from '../harness/charon-log.js';
import { parseEspSaLine, parseIkev2TableLine, type EspSaRecord, type Ikekm, type Ikev2TableRecord } from '../harness/ikekm.js';
import type { Lab, LabSide } from '../harness/netns.js';
import type { ChildSaInfo, IkeSaInfo } from '../harness/vici.js';
import { assertNoSecrets } from '../../support/log-capture.js';
import { runTshark, type TsharkFields } from '../../support/tshark.js';

export const IDS = { a: 'a.lab.example', b: 'b.lab.example' } as const;
export const PSK = 'ikekm-interop-lab-psk';

/** An IKE proposal and what each side must report once it is negotiated. */
export interface IkeCase {
  readonly proposal: string;
  /** ikekm's status().transforms (IANA IDs, RFC 7296 3.3.2). */
  readonly ids: { readonly encr: number; readonly encrKeyLengthBits: number; readonly prf: number; readonly integ?: number; readonly dh: number };
  /** charon's list-sas names. */
  readonly swan: { readonly encrAlg: string; readonly encrKeysize: number; readonly integAlg: string | undefined; readonly prfAlg: string; readonly dhGroup: string };
  /** tshark 4.0's ikev2_decryption_table names. */
  readonly tshark: { readonly encryption: string; readonly integrity: string };
}

export const IKE_CASES = {
  cbc: {
    proposal: 'aes128-sha256-modp2048',
    ids: { encr: 12, encrKeyLengthBits: 128, prf: 5, integ: 12, dh: 14 },
    swan: { encrAlg: 'AES_CBC', encrKeysize: 128, integAlg: 'HMAC_SHA2_256_128', prfAlg: 'PRF_HMAC_SHA2_256', dhGroup: 'MODP_2048' },
    tshark: { encryption: 'AES-CBC-128 [RFC3602]', integrity: 'HMAC_SHA2_256_128 [RFC4868]' },
  },
  gcm384: {
    proposal: 'aes256gcm16-prfsha384-ecp384',
    ids: { encr: 20, encrKeyLengthBits: 256, prf: 6, dh: 20 },
    swan: { encrAlg: 'AES_GCM_16', encrKeysize: 256, integAlg: undefined, prfAlg: 'PRF_HMAC_SHA2_384', dhGroup: 'ECP_384' },
    tshark: { encryption: 'AES-GCM-256 with 16 octet ICV [RFC5282]', integrity: 'NONE [RFC4306]' },
  },
  gcmX25519: {
    proposal: 'aes128gcm16-prfsha256-x25519',
    ids: { encr: 20, encrKeyLengthBits: 128, prf: 5, dh: 31 },
    swan: { encrAlg: 'AES_GCM_16', encrKeysize: 128, integAlg: undefined, prfAlg: 'PRF_HMAC_SHA2_256', dhGroup: 'CURVE_25519' },
    tshark: { encryption: 'AES-GCM-128 with 16 octet ICV [RFC5282]', integrity: 'NONE [RFC4306]' },
  },
} as const satisfies Record<string, IkeCase>;

/** An ESP proposal and what each side must report. `pfs` is the group a CREATE_CHILD_SA uses. */
export interface EspCase {
  readonly proposal: string;
  readonly ids: { readonly encr: number; readonly encrKeyLengthBits: number; readonly integ?: number };
  readonly pfs: { readonly id: number; readonly swan: string } | undefined;
  readonly swan: { readonly encrAlg: string; readonly encrKeysize: number; readonly integAlg: string | undefined };
  readonly tshark: { readonly encryption: string; readonly integrity: string };
  /** Key octets: encryption (AES-GCM: key + 4-octet salt) and integrity. */
  readonly keyOctets: { readonly encryption: number; readonly integrity: number };
}

export const ESP_CASES = {
  gcm: {
    proposal: 'aes128gcm16',
    ids: { encr: 20, encrKeyLengthBits: 128 },
    pfs: undefined,
    swan: { encrAlg: 'AES_GCM_16', encrKeysize: 128, integAlg: undefined },
    tshark: { encryption: 'AES-GCM with 16 octet ICV [RFC4106]', integrity: 'NULL' },
    keyOctets: { encryption: 20, integrity: 0 },
  },
  gcmEcp256: {
    proposal: 'aes128gcm16-ecp256',
    ids: { encr: 20, encrKeyLengthBits: 128 },
    pfs: { id: 19, swan: 'ECP_256' },
    swan: { encrAlg: 'AES_GCM_16', encrKeysize: 128, integAlg: undefined },
    tshark: { encryption: 'AES-GCM with 16 octet ICV [RFC4106]', integrity: 'NULL' },
    keyOctets: { encryption: 20, integrity: 0 },
  },
  cbcModp2048: {
    proposal: 'aes256-sha256-modp2048',
    ids: { encr: 12, encrKeyLengthBits: 256, integ: 12 },
    pfs: { id: 14, swan: 'MODP_2048' },
    swan: { encrAlg: 'AES_CBC', encrKeysize: 256, integAlg: 'HMAC_SHA2_256_128' },
    tshark: { encryption: 'AES-CBC [RFC3602]', integrity: 'HMAC-SHA-256-128 [RFC4868]' },
    keyOctets: { encryption: 32, integrity: 32 },
  },
} as const satisfies Record<string, EspCase>;

/** The lab's outer (IKE/ESP) and inner (protected, as a /32 or /128 prefix) addresses of a side. */
export function labAddresses(side: LabSide, ipv6 = false): { readonly outer: string; readonly inner: string } {
  if (!ipv6) return { outer: side.outer4, inner: `${side.inner4}/32` };
  if (side.outer6 === undefined || side.inner6 === undefined) throw new Error('the lab was created without IPv6');
  return { outer: side.outer6, inner: `${side.inner6}/128` };
}

/** The single established IKE SA with its installed Child SAs, on each side. */
export function installedChildren(sa: IkeSaStatus | undefined): IkeSaStatus['children'][number][] {
  return (sa?.children ?? []).filter((c) => c.state === 'installed');
}

export function charonInstalled(sa: IkeSaInfo | undefined): ChildSaInfo[] {
  return (sa?.childSas ?? []).filter((c) => c.state === 'INSTALLED');
}

/**
 * ikekm (on `lab.a`) and charon (on `lab.b`) describe the same IKE SA and the same installed
 * Child SAs: SPIs (crossed for ESP), algorithms, endpoints after the move to 4500, identities,
 * traffic selectors. `pfs` is the group the Child SAs were created with (none for IKE_AUTH's).
 */
export function expectSameSa(
  lab: Pick<Lab, 'a' | 'b'>,
  ours: IkeSaStatus | undefined,
  theirs: IkeSaInfo | undefined,
  expected: { readonly ike: IkeCase; readonly esp: EspCase; readonly pfs?: boolean; readonly ikekmIsInitiator: boolean; readonly ipv6?: boolean },
): void {
  const [a, b] = [labAddresses(lab.a, expected.ipv6), labAddresses(lab.b, expected.ipv6)];
  expect(ours, 'ikekm IKE SA').toBeDefined();
  expect(theirs, 'charon IKE SA').toBeDefined();
  if (ours === undefined || theirs === undefined) return;
  expect(ours.state).toBe('established');
  expect(theirs.state).toBe('ESTABLISHED');
  expect(ours.spiI).toMatch(/^[0-9a-f]{16}$/);
  expect(ours.spiI).toBe(theirs.spiI);
  expect(ours.spiR).toBe(theirs.spiR);
  expect(ours.role).toBe(expected.ikekmIsInitiator ? 'initiator' : 'responder');
  expect(theirs.initiator).toBe(!expected.ikekmIsInitiator);
  // kernel-libipsec makes charon fake NAT detection: both sides moved IKE to 4500.
  expect(ours.local).toBe(`${a.outer}:4500`);
  expect(ours.remote).toBe(`${b.outer}:4500`);
  expect([theirs.localHost, theirs.remoteHost]).toEqual([b.outer, a.outer]);
  expect([theirs.localPort, theirs.remotePort]).toEqual([4500, 4500]);
  expect(ours.peerId).toBe(theirs.localId);
  expect(theirs.remoteId).toBe(IDS.a);
  expect(ours.transforms).toEqual(expected.ike.ids);
  expect({ encrAlg: theirs.encrAlg, encrKeysize: theirs.encrKeysize, integAlg: theirs.integAlg, prfAlg: theirs.prfAlg, dhGroup: theirs.dhGroup }).toEqual(expected.ike.swan);

  const ourChildren = installedChildren(ours);
  const theirChildren = charonInstalled(theirs);
  expect(ourChildren.length, 'installed Child SAs').toBeGreaterThan(0);
  expect(ourChildren.map((c) => `${c.inboundSpi}/${c.outboundSpi}`).sort()).toEqual(theirChildren.map((c) => `${c.spiOut}/${c.spiIn}`).sort());
  for (const child of ourChildren) {
    const peer = theirChildren.find((c) => c.spiIn === child.outboundSpi);
    expect(child.mode).toBe('tunnel');
    expect(peer?.mode).toBe('TUNNEL');
    expect(peer?.encap).toBe(true);
    expect(child.localTs).toEqual([a.inner]);
    expect(child.remoteTs).toEqual([b.inner]);
    expect(peer?.localTs).toEqual(child.remoteTs);
    expect(peer?.remoteTs).toEqual(child.localTs);
    const pfs = expected.pfs === true ? expected.esp.pfs : undefined;
    expect(child.transforms).toEqual({ ...expected.esp.ids, ...(pfs === undefined ? {} : { dh: pfs.id }), esn: false });
    expect({ encrAlg: peer?.encrAlg, encrKeysize: peer?.encrKeysize, integAlg: peer?.integAlg, dhGroup: peer?.dhGroup }).toEqual({
      ...expected.esp.swan,
      dhGroup: pfs?.swan,
    });
  }
}

/**
 * Sends `count` pings from charon's protected address to ikekm's: charon encrypts them into its
 * Child SA (ESP in UDP to ikekm's 4500). No reply can come back (ikekm has no ESP datapath), so
 * ping is stopped once the requests are out instead of waiting for its timeout.
 */
export async function pingFromCharonSide(lab: Pick<Lab, 'b' | 'a' | 'exec'>, count = 2): Promise<void> {
  await lab.exec('b', 'ping', ['-c', String(count), '-i', '0.2', '-W', '1', '-I', lab.b.inner4, lab.a.inner4], { timeoutMs: 200 * count + 300 });
}

/** ikekm's IKE SA with these SPIs. */
export function ikekmSa(status: readonly IkeSaStatus[], spiI: string | undefined, spiR: string | undefined): IkeSaStatus | undefined {
  return status.find((s) => s.spiI === spiI && s.spiR === spiR);
}

/**
 * Nothing of ikekm's left in use: no IKE SA, or only ones `lingering` without Child SAs (after
 * answering the peer's Delete of an IKE SA the engine keeps it LINGER_MS to answer retransmitted
 * Deletes from its cache, RFC 7296 2.1).
 */
export function ikekmHasNoLiveSa(status: readonly IkeSaStatus[]): boolean {
  return status.every((s) => s.state === 'lingering' && s.children.length === 0);
}

/**
 * ikekm's MemoryKernel holds exactly the ESP SAs of its installed Child SAs (both directions,
 * UDP-encapsulated 4500 ↔ 4500 since NAT was detected) and their tunnel policies (in, out, fwd).
 */
export async function expectKernelMatchesStatus(lab: Pick<Lab, 'a' | 'b'>, ikekm: Ikekm, options: { readonly ipv6?: boolean } = {}): Promise<void> {
  const [a, b] = [labAddresses(lab.a, options.ipv6).outer, labAddresses(lab.b, options.ipv6).outer];
  const [status, kernel] = [await ikekm.status(), await ikekm.kernelState()];
  const children = status.flatMap((s) => installedChildren(s));
  const expected = children.flatMap((c) => [
    { direction: 'in', spi: parseEspSpiHex(c.inboundSpi), source: b, destination: a },
    { direction: 'out', spi: parseEspSpiHex(c.outboundSpi), source: a, destination: b },
  ]);
  const actual = kernel.sas.map((sa) => ({ direction: sa.direction, spi: sa.spi, source: sa.source, destination: sa.destination }));
  const order = (x: { spi: number }, y: { spi: number }): number => x.spi - y.spi;
  expect(actual.sort(order)).toEqual(expected.sort(order));
  for (const sa of kernel.sas) {
    expect(sa.mode).toBe('tunnel');
    expect(sa.encapsulation).toEqual({ sourcePort: 4500, destinationPort: 4500 });
    expect(sa.encryption.key).toMatch(/^\[redacted\]$/i);
  }
  expect(kernel.policies.map((p) => p.direction).sort()).toEqual(children.flatMap(() => ['fwd', 'in', 'out']).sort());
}

export async function expectKernelEmpty(ikekm: Ikekm): Promise<void> {
  const kernel = await ikekm.kernelState();
  expect(kernel.sas).toEqual([]);
  expect(kernel.policies).toEqual([]);
}

/** ikekm's key tables, parsed. */
export async function ikekmKeyTables(ikekm: Ikekm): Promise<{ esp: EspSaRecord[]; ike: Ikev2TableRecord[] }> {
  return { esp: (await ikekm.espSaLines()).map(parseEspSaLine), ike: (await ikekm.ikeKeylogLines()).map(parseIkev2TableLine) };
}

/**
 * The IKE SA keys in ikekm's ikev2_decryption_table line equal those charon derived for the same
 * SPIs (RFC 7296 2.14); the algorithm names are the negotiated ones.
 */
export function expectIkeKeysMatch(table: readonly Ikev2TableRecord[], theirs: IkeSaKeys | undefined, ike: IkeCase): void {
  expect(theirs, "charon's IKE SA keys").toBeDefined();
  if (theirs === undefined) return;
  const matching = table.filter((r) => r.spiI === theirs.spiI && r.spiR === theirs.spiR);
  expect(matching, `ikekm ikev2_decryption_table lines for ${theirs.spiI}_${theirs.spiR}`).toHaveLength(1);
  const ours = matching[0];
  expect(ours?.SK_ei).toMatch(/^[0-9a-f]{32,}$/);
  expect(ours?.SK_ei).toBe(theirs.SK_ei);
  expect(ours?.SK_er).toBe(theirs.SK_er);
  expect(ours?.SK_ei).not.toBe(ours?.SK_er);
  expect(ours?.SK_ai).toBe(theirs.SK_ai ?? '');
  expect(ours?.SK_ar).toBe(theirs.SK_ar ?? '');
  expect(ours?.encryption).toBe(ike.tshark.encryption);
  expect(ours?.integrity).toBe(ike.tshark.integrity);
}

/**
 * The two esp_sa lines ikekm wrote for one Child SA hold the SPIs and keys charon derived for it
 * (RFC 7296 2.17). charon's "initiator" keys are those of the side that initiated the exchange
 * that created the Child SA: that side sends with them.
 */
export function expectChildKeysMatch(
  lab: Pick<Lab, 'a' | 'b'>,
  table: readonly EspSaRecord[],
  theirs: ChildSaKeys | undefined,
  expected: { readonly esp: EspCase; readonly initiator: 'ikekm' | 'charon'; readonly ipv6?: boolean },
): void {
  const [a, b] = [labAddresses(lab.a, expected.ipv6).outer, labAddresses(lab.b, expected.ipv6).outer];
  expect(theirs, "charon's Child SA keys").toBeDefined();
  if (theirs === undefined) return;
  // charon (b) receives on spiIn: ikekm's outbound SA; ikekm receives on charon's spiOut.
  const outbound = table.filter((r) => r.spi === theirs.spiIn);
  const inbound = table.filter((r) => r.spi === theirs.spiOut);
  expect(outbound, `ikekm esp_sa lines for SPI ${theirs.spiIn}`).toHaveLength(1);
  expect(inbound, `ikekm esp_sa lines for SPI ${theirs.spiOut}`).toHaveLength(1);
  const [out, inn] = [outbound[0], inbound[0]];
  expect([out?.src, out?.dst]).toEqual([a, b]);
  expect([inn?.src, inn?.dst]).toEqual([b, a]);
  expect([out?.family, inn?.family]).toEqual(expected.ipv6 ? ['IPv6', 'IPv6'] : ['IPv4', 'IPv4']);
  const ikekmSends = expected.initiator === 'ikekm' ? 'Initiator' : 'Responder';
  const charonSends = expected.initiator === 'ikekm' ? 'Responder' : 'Initiator';
  expect(out?.encryptionKey).toHaveLength(expected.esp.keyOctets.encryption * 2);
  expect(out?.encryptionKey, 'outbound encryption key').toBe(theirs[`encryption${ikekmSends}`]);
  expect(inn?.encryptionKey, 'inbound encryption key').toBe(theirs[`encryption${charonSends}`]);
  expect(out?.integrityKey, 'outbound integrity key').toBe(theirs[`integrity${ikekmSends}`] ?? '');
  expect(inn?.integrityKey, 'inbound integrity key').toBe(theirs[`integrity${charonSends}`] ?? '');
  expect(out?.integrityKey).toHaveLength(expected.esp.keyOctets.integrity * 2);
  for (const r of [out, inn]) {
    expect(r?.encryption).toBe(expected.esp.tshark.encryption);
    expect(r?.integrity).toBe(expected.esp.tshark.integrity);
  }
}

/** charon's key set for the IKE SA with these SPIs. */
export function charonIkeKeys(keys: DerivedKeys, spiI: string, spiR: string): IkeSaKeys | undefined {
  return keys.ike.find((k) => k.spiI === spiI && k.spiR === spiR);
}

/** charon's key set for the Child SA it receives on `spiIn`. */
export function charonChildKeys(keys: DerivedKeys, spiIn: string): ChildSaKeys | undefined {
  return keys.child.find((k) => k.spiIn === spiIn);
}

/** IKE exchange types (RFC 7296 3.1) as tshark prints them. */
export const EXCHANGE = { IKE_SA_INIT: '34', IKE_AUTH: '35', CREATE_CHILD_SA: '36', INFORMATIONAL: '37' } as const;
/** Payload types (RFC 7296 3.2) as tshark prints them. */
export const PAYLOAD = { SA: '33', KE: '34', IDi: '35', IDr: '36', AUTH: '39', Nonce: '40', Notify: '41', Delete: '42', TSi: '44', TSr: '45', SK: '46' } as const;

export const TSHARK_FIELDS = [
  'frame.number',
  'ip.src',
  'udp.srcport',
  'udp.dstport',
  'isakmp.ispi',
  'isakmp.rspi',
  'isakmp.exchangetype',
  'isakmp.flag_r',
  'isakmp.typepayload',
  'isakmp.id.data.fqdn',
  'isakmp.auth.method',
  'isakmp.ts.start_ipv4',
  'esp.spi',
  'esp.icv_good',
  'icmp.type',
  '_ws.malformed',
  '_ws.expert.message',
] as const;

/** tshark on the capture with ONLY ikekm's key tables. */
export async function dissectWithIkekmKeys(captureFile: string, ikekm: Ikekm): Promise<readonly TsharkFields[]> {
  const { packets } = await runTshark(captureFile, {
    ikev2Table: await ikekm.ikeKeylogLines(),
    espSa: await ikekm.espSaLines(),
    fields: TSHARK_FIELDS,
    filter: 'isakmp || esp',
  });
  return packets;
}

export const first = (p: TsharkFields, field: string): string | undefined => p[field]?.[0];

/**
 * Every IKE_AUTH packet in `packets` was decrypted: the request shows IDi, AUTH (PSK, method 2),
 * SA, TSi and TSr, the response IDr, AUTH and the narrowed TS; identities and selectors are the
 * lab's. Returns how many IKE_AUTH exchanges (request + response pairs) there were.
 */
export function expectIkeAuthDecrypted(lab: Pick<Lab, 'a' | 'b'>, packets: readonly TsharkFields[], initiatorId: string, responderId: string): number {
  const auth = packets.filter((p) => first(p, 'isakmp.exchangetype') === EXCHANGE.IKE_AUTH);
  const requests = auth.filter((p) => first(p, 'isakmp.flag_r') !== 'True' && first(p, 'isakmp.flag_r') !== '1');
  const responses = auth.filter((p) => !requests.includes(p));
  expect(requests.length).toBeGreaterThan(0);
  expect(responses.length).toBe(requests.length);
  for (const p of auth) {
    // On 4500 after the NAT detection kernel-libipsec fakes.
    expect([first(p, 'udp.srcport'), first(p, 'udp.dstport')]).toEqual(['4500', '4500']);
    const payloads = p['isakmp.typepayload'] ?? [];
    expect(payloads, `frame ${first(p, 'frame.number')}: payloads inside SK`).toEqual(expect.arrayContaining([PAYLOAD.SK, PAYLOAD.AUTH, PAYLOAD.SA, PAYLOAD.TSi, PAYLOAD.TSr]));
    expect(p['isakmp.auth.method']).toEqual(['2']); // Shared Key Message Integrity Code
    expect(p['isakmp.ts.start_ipv4']).toEqual(expect.arrayContaining([lab.a.inner4, lab.b.inner4]));
  }
  for (const p of requests) {
    expect(p['isakmp.typepayload']).toContain(PAYLOAD.IDi);
    expect(p['isakmp.id.data.fqdn']?.[0]).toBe(initiatorId);
  }
  for (const p of responses) {
    expect(p['isakmp.typepayload']).toContain(PAYLOAD.IDr);
    expect(p['isakmp.id.data.fqdn']).toEqual([responderId]);
  }
  return requests.length;
}

/** No packet tshark calls malformed. */
export function expectNoMalformed(packets: readonly TsharkFields[]): void {
  expect(packets.filter((p) => p['_ws.malformed'] !== undefined).map((p) => first(p, 'frame.number'))).toEqual([]);
}

/**
 * ikekm's log holds neither the PSK nor any key it or charon derived, in any encoding
 * (log-capture.ts): the keys from ikekm's tables plus charon's SK_d, SK_p*, SKEYSEED and g^ir.
 */
export async function expectNoSecretsInIkekmLog(ikekm: Ikekm, psks: readonly string[], charonKeys: readonly DerivedKeys[]): Promise<number> {
  const { esp, ike } = await ikekmKeyTables(ikekm);
  const hex: string[] = [
    ...esp.flatMap((r) => [r.encryptionKey, r.integrityKey]),
    ...ike.flatMap((r) => [r.SK_ei, r.SK_er, r.SK_ai, r.SK_ar]),
    ...charonKeys.flatMap((k) => [
      ...k.ike.flatMap((i) => [i.SK_d, i.SK_pi, i.SK_pr, i.SKEYSEED, i.sharedSecret, i.SK_ei, i.SK_er, i.SK_ai, i.SK_ar]),
      ...k.child.flatMap((c) => [c.encryptionInitiator, c.encryptionResponder, c.integrityInitiator, c.integrityResponder]),
    ]),
  ].filter((h): h is string => h !== undefined && h.length >= 8);
  const secrets = [...psks, ...new Set(hex)].map((s) => (psks.includes(s) ? s : Buffer.from(s, 'hex')));
  const lines = ikekm.logLines();
  expect(lines.length, 'ikekm wrote a debug log').toBeGreaterThan(10);
  assertNoSecrets(lines, secrets);
  return secrets.length;
}
