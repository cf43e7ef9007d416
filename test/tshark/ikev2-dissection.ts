/**
 * One common shape for "what an IKEv2 payload says", built two ways: from ikekm's payload
 * models (what we meant to send) and from tshark's JSON dissection tree (what Wireshark read).
 * The tests compare the two with `toEqual`, so every field both sides know is checked at once.
 *
 * The tshark side reads the `-T json --no-duplicate-keys` tree of the `isakmp` layer, where
 * each payload list is a pair of keys: `isakmp.typepayload` (the payload types, in order) and
 * `isakmp.typepayload_tree` (their subtrees). A single element is a bare value, several are an
 * array; both are normalized here.
 */
import { isAddressRange, isUnknownPayload, keyLengthOf, NotifyType, PayloadType, TsType, formatIp, type Payload, type Proposal } from '../../src/wire/index.js';

export interface SeenTransform {
  readonly type: number;
  readonly id: number;
  readonly keyLength?: number;
}
export interface SeenProposal {
  readonly number: number;
  readonly protocolId: number;
  readonly spi: string;
  readonly transforms: readonly SeenTransform[];
}
export interface SeenSelector {
  readonly tsType: number;
  readonly protocol: number;
  readonly startPort: number;
  readonly endPort: number;
  readonly start: string;
  readonly end: string;
}
export type SeenPayload =
  | { readonly type: 33; readonly proposals: readonly SeenProposal[] }
  | { readonly type: 34; readonly group: number; readonly data: string }
  | { readonly type: 35 | 36; readonly idType: number; readonly id: string }
  | { readonly type: 39; readonly method: number; readonly data: string }
  | { readonly type: 40; readonly nonce: string }
  | { readonly type: 41; readonly protocolId: number; readonly spi: string; readonly notifyType: number; readonly data: string; readonly hashAlgorithms?: readonly number[] }
  | { readonly type: 44 | 45; readonly selectors: readonly SeenSelector[] }
  | { readonly type: 46; readonly inner: readonly SeenPayload[] | undefined }
  | { readonly type: number; readonly other: true };

// ---------------------------------------------------------------- from our models

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function seenProposal(p: Proposal): SeenProposal {
  return {
    number: p.proposalNum,
    protocolId: p.protocolId,
    spi: hex(p.spi),
    transforms: p.transforms.map((t) => {
      const keyLength = keyLengthOf(t);
      return keyLength === undefined ? { type: t.transformType, id: t.transformId } : { type: t.transformType, id: t.transformId, keyLength };
    }),
  };
}

/** What each of our payloads should look like in tshark. */
export function seenFromModel(payloads: readonly Payload[]): SeenPayload[] {
  return payloads.map((p): SeenPayload => {
    if (isUnknownPayload(p)) return { type: p.type, other: true };
    switch (p.type) {
      case PayloadType.SA:
        return { type: 33, proposals: p.proposals.map(seenProposal) };
      case PayloadType.KE:
        return { type: 34, group: p.dhGroup, data: hex(p.keData) };
      case PayloadType.IDi:
      case PayloadType.IDr:
        return { type: p.type, idType: p.idType, id: p.idType === 1 || p.idType === 5 ? formatIp(p.data) : p.data.toString('utf8') };
      case PayloadType.AUTH:
        return { type: 39, method: p.method, data: hex(p.data) };
      case PayloadType.Nonce:
        return { type: 40, nonce: hex(p.data) };
      case PayloadType.N: {
        const base = { type: 41, protocolId: p.protocolId, spi: hex(p.spi), notifyType: p.notifyType, data: hex(p.data) } as const;
        if (p.notifyType !== NotifyType.SIGNATURE_HASH_ALGORITHMS) return base;
        const hashAlgorithms: number[] = [];
        for (let i = 0; i + 1 < p.data.length; i += 2) hashAlgorithms.push(p.data.readUInt16BE(i));
        return { ...base, hashAlgorithms };
      }
      case PayloadType.TSi:
      case PayloadType.TSr:
        return {
          type: p.type,
          selectors: p.selectors.map((ts) => {
            if (!isAddressRange(ts)) throw new Error('only address-range selectors are compared');
            return { tsType: ts.tsType, protocol: ts.ipProtocolId, startPort: ts.startPort, endPort: ts.endPort, start: formatIp(ts.startAddress), end: formatIp(ts.endAddress) };
          }),
        };
      default:
        return { type: p.type, other: true };
    }
  });
}

// ---------------------------------------------------------------- from tshark

type Tree = Readonly<Record<string, unknown>>;

function asArray<T>(v: unknown): readonly T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as T[]) : [v as T];
}

function str(tree: Tree, key: string): string {
  const v = tree[key];
  if (typeof v !== 'string') throw new Error(`tshark tree has no string ${key}: ${JSON.stringify(v)?.slice(0, 200)}`);
  return v;
}
const num = (tree: Tree, key: string): number => Number(str(tree, key));
/** tshark prints bytes as "aa:bb:cc"; empty bytes as "". */
const bytes = (tree: Tree, key: string): string => (tree[key] === undefined ? '' : str(tree, key).replaceAll(':', ''));

/** The payload list of a node: zips isakmp.typepayload with isakmp.typepayload_tree. */
export function payloadTrees(node: Tree): { type: number; tree: Tree }[] {
  const types = asArray<string>(node['isakmp.typepayload']);
  const trees = asArray<Tree>(node['isakmp.typepayload_tree']);
  if (types.length !== trees.length) throw new Error(`tshark tree: ${types.length} payload types but ${trees.length} subtrees`);
  return types.map((t, i) => ({ type: Number(t), tree: trees[i] as Tree }));
}

function transformFromTshark(tree: Tree): SeenTransform {
  const idKey = Object.keys(tree).find((k) => k.startsWith('isakmp.tf.id'));
  if (idKey === undefined) throw new Error('transform without an ID in tshark tree');
  const attributes = asArray<Tree>(tree['isakmp.ike2.attr']);
  const keyLength = attributes.find((a) => a['isakmp.ike2.attr.key_length'] !== undefined);
  const base = { type: num(tree, 'isakmp.tf.type'), id: num(tree, idKey) };
  return keyLength === undefined ? base : { ...base, keyLength: num(keyLength, 'isakmp.ike2.attr.key_length') };
}

function proposalFromTshark(tree: Tree): SeenProposal {
  return {
    number: num(tree, 'isakmp.prop.number'),
    protocolId: num(tree, 'isakmp.prop.protoid'),
    spi: bytes(tree, 'isakmp.spi'),
    transforms: payloadTrees(tree).map(({ type, tree: t }) => {
      if (type !== 3) throw new Error(`substructure ${type} inside a proposal`);
      return transformFromTshark(t);
    }),
  };
}

function idFromTshark(tree: Tree): string {
  const data = (tree['isakmp.id.data'] ?? {}) as Tree;
  for (const key of ['isakmp.id.data.fqdn', 'isakmp.id.data.ipv4_addr', 'isakmp.id.data.ipv6_addr', 'isakmp.id.data.user_fqdn']) {
    if (typeof data[key] === 'string') return data[key] as string;
  }
  throw new Error(`ID data not dissected: ${JSON.stringify(tree).slice(0, 200)}`);
}

function selectorFromTshark(tree: Tree): SeenSelector {
  const v6 = num(tree, 'isakmp.ts.type') === TsType.TS_IPV6_ADDR_RANGE;
  return {
    tsType: num(tree, 'isakmp.ts.type'),
    protocol: num(tree, 'isakmp.ts.protoid'),
    startPort: num(tree, 'isakmp.ts.start_port'),
    endPort: num(tree, 'isakmp.ts.end_port'),
    start: str(tree, v6 ? 'isakmp.ts.start_ipv6' : 'isakmp.ts.start_ipv4'),
    end: str(tree, v6 ? 'isakmp.ts.end_ipv6' : 'isakmp.ts.end_ipv4'),
  };
}

/**
 * The payloads tshark dissected under `node` (the isakmp layer, or a decrypted SK's contained
 * data). A payload tshark could not dissect completely (e.g. garbage from a wrong key) comes
 * back as `{ type, other: true }`, which never equals a payload built from a model.
 */
export function seenFromTshark(node: Tree): SeenPayload[] {
  return payloadTrees(node).map(({ type, tree }): SeenPayload => {
    try {
      return seenPayloadFromTshark(type, tree);
    } catch {
      return { type, other: true };
    }
  });
}

function seenPayloadFromTshark(type: number, tree: Tree): SeenPayload {
  switch (type) {
    case 33:
      return { type, proposals: payloadTrees(tree).map(({ tree: p }) => proposalFromTshark(p)) };
    case 34:
      return { type, group: num(tree, 'isakmp.key_exchange.dh_group'), data: bytes(tree, 'isakmp.key_exchange.data') };
    case 35:
    case 36:
      return { type, idType: num(tree, 'isakmp.id.type'), id: idFromTshark(tree) };
    case 39:
      return { type, method: num(tree, 'isakmp.auth.method'), data: bytes(tree, 'isakmp.auth.data') };
    case 40:
      return { type, nonce: bytes(tree, 'isakmp.nonce') };
    case 41: {
      const base = { type: 41, protocolId: num(tree, 'isakmp.notify.protoid'), spi: bytes(tree, 'isakmp.spi'), notifyType: num(tree, 'isakmp.notify.msgtype'), data: bytes(tree, 'isakmp.notify.data') } as const;
      const hashes = tree['isakmp.notify.data.signature_hash_algorithms'] as string | string[] | undefined;
      return hashes === undefined ? base : { ...base, hashAlgorithms: asArray<string>(hashes).map(Number) };
    }
    case 44:
    case 45:
      return { type, selectors: asArray<Tree>(tree['isakmp.ts.data']).map(selectorFromTshark) };
    case 46: {
      const decrypted = tree['isakmp.enc.decrypted'] as Tree | undefined;
      const contained = decrypted?.['isakmp.enc.contained'] as Tree | undefined;
      return { type, inner: contained === undefined ? undefined : seenFromTshark(contained) };
    }
    default:
      return { type, other: true };
  }
}

/** The isakmp layer's header fields as tshark shows them. */
export interface SeenHeader {
  readonly spiI: string;
  readonly spiR: string;
  readonly nextPayload: number;
  readonly exchangeType: number;
  readonly initiator: boolean;
  readonly response: boolean;
  readonly higherVersion: boolean;
  readonly messageId: number;
  readonly length: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
}

export function headerFromTshark(isakmp: Tree): SeenHeader {
  const flags = isakmp['isakmp.flags_tree'] as Tree;
  const version = isakmp['isakmp.version_tree'] as Tree;
  return {
    spiI: bytes(isakmp, 'isakmp.ispi'),
    spiR: bytes(isakmp, 'isakmp.rspi'),
    nextPayload: num(isakmp, 'isakmp.nextpayload'),
    exchangeType: num(isakmp, 'isakmp.exchangetype'),
    initiator: str(flags, 'isakmp.flag_i') === '1',
    response: str(flags, 'isakmp.flag_r') === '1',
    higherVersion: str(flags, 'isakmp.flag_v') === '1',
    messageId: num(isakmp, 'isakmp.messageid'),
    length: num(isakmp, 'isakmp.length'),
    majorVersion: num(version, 'isakmp.mjver'),
    minorVersion: num(version, 'isakmp.mnver'),
  };
}
