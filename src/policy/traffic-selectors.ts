/**
 * Traffic selectors and their narrowing (RFC 7296 2.9, 3.13.1).
 *
 * A Selector is one TS_IPV4_ADDR_RANGE / TS_IPV6_ADDR_RANGE in text form: IP protocol (0 = any),
 * a port range and an address range. Narrowing intersects what the initiator offered with what
 * the responder's policy allows and keeps every non-empty piece: "When the responder chooses a
 * subset of the traffic proposed by the initiator, it narrows the Traffic Selectors to some subset
 * of the initiator's proposal (provided the set does not become the null set)" (2.9).
 *
 * The first-TS rule (2.9): an initiator that starts a Child SA for a packet SHOULD put that
 * packet's addresses first in TSi and TSr, and a responder whose policy accepts that first pair
 * "MUST narrow the Traffic Selectors to a subset that includes the initiator's first choices".
 * ikekm treats all selectors alike: it keeps the intersection of every offered selector with every
 * configured one, so when the first pair is acceptable its intersection (the pair itself) is part
 * of the answer and the MUST holds; when the policy covers more, the answer is the larger subset,
 * as strongSwan answers too. It never answers SINGLE_PAIR_REQUIRED.
 *
 * Ports: start > end is empty, except start 65535 / end 0, which 3.13.1 defines as OPAQUE ("the
 * port is not available", e.g. fragments). OPAQUE intersects only with itself and with "any port"
 * (0-65535), and then it is OPAQUE. For ICMP the 16-bit "port" is Type << 8 | Code (3.13.1).
 *
 * Selectors of any other TS Type (TS_FC_ADDR_RANGE, TS_SECLABEL, ...) are left out by
 * `fromWireSelectors`, so narrowing ignores them.
 */
import { err, ok, type Result } from '../result.js';
import { TsType } from '../wire/iana.js';
import { formatIp, parseIp } from '../wire/ip-address.js';
import { isAddressRange, type AddressRangeSelector, type TrafficSelector } from '../wire/payloads/traffic-selector.js';

/** One address-range traffic selector with textual addresses. */
export interface Selector {
  /** IP protocol number; 0 means any. */
  readonly ipProtocol: number;
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddress: string;
  readonly endAddress: string;
  readonly family: 4 | 6;
}

const MAX_PORT = 0xffff;

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function toBigInt(address: string): bigint | undefined {
  const octets = parseIp(address);
  if (octets === undefined) return undefined;
  return BigInt(`0x${octets.toString('hex')}`);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const hex = value.toString(16).padStart(bits(family) / 4, '0');
  return formatIp(Buffer.from(hex, 'hex'));
}

function familyOf(address: string): 4 | 6 | undefined {
  const octets = parseIp(address);
  if (octets === undefined) return undefined;
  return octets.length === 4 ? 4 : 6;
}

function mustBigInt(address: string): bigint {
  const v = toBigInt(address);
  if (v === undefined) throw new RangeError(`not an IP address: ${address}`);
  return v;
}

const isOpaque = (s: { startPort: number; endPort: number }) => s.startPort === MAX_PORT && s.endPort === 0;
const isAnyPort = (s: { startPort: number; endPort: number }) => s.startPort === 0 && s.endPort === MAX_PORT;

function checkPort(p: number, what: string): string | undefined {
  return Number.isInteger(p) && p >= 0 && p <= MAX_PORT ? undefined : `${what} ${p} is not a port number (0..65535)`;
}

/**
 * A selector from '198.51.100.0/24', '2001:db8::/64', a single address ('192.0.2.1' = /32), or a
 * range '192.0.2.10-192.0.2.20'. Host bits below the prefix are cleared, as strongSwan does
 * ('10.1.2.3/16' is 10.1.0.0/16). `port` is one port or [start, end]; absent means all ports.
 */
export function selectorFromCidr(
  cidr: string,
  options: { ipProtocol?: number; port?: number | [number, number] } = {},
): Result<Selector, string> {
  const ipProtocol = options.ipProtocol ?? 0;
  if (!Number.isInteger(ipProtocol) || ipProtocol < 0 || ipProtocol > 255) return err(`IP protocol ${ipProtocol} is not 0..255`);
  const [startPort, endPort] = options.port === undefined ? [0, MAX_PORT] : typeof options.port === 'number' ? [options.port, options.port] : options.port;
  const portProblem = checkPort(startPort, 'start port') ?? checkPort(endPort, 'end port');
  if (portProblem !== undefined) return err(portProblem);
  if (startPort > endPort && !(startPort === MAX_PORT && endPort === 0)) return err(`port range ${startPort}-${endPort} is empty`);

  const text = cidr.trim();
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const start = text.slice(0, dash).trim();
    const end = text.slice(dash + 1).trim();
    const family = familyOf(start);
    if (family === undefined || familyOf(end) !== family) return err(`'${cidr}' is not an address range of one family`);
    if (mustBigInt(start) > mustBigInt(end)) return err(`address range '${cidr}' is empty (start after end)`);
    return ok(normalize({ ipProtocol, startPort, endPort, startAddress: start, endAddress: end, family }));
  }
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = familyOf(address);
  if (family === undefined) return err(`'${address}' is not an IPv4 or IPv6 address`);
  const width = bits(family);
  let prefix = width;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > width) return err(`'/${p}' is not a prefix length for IPv${family} (0..${width})`);
    prefix = Number(p);
  }
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  const network = mustBigInt(address) & ~hostMask & ((1n << BigInt(width)) - 1n);
  return ok({
    ipProtocol,
    startPort,
    endPort,
    startAddress: fromBigInt(network, family),
    endAddress: fromBigInt(network | hostMask, family),
    family,
  });
}

/** Canonical address text (RFC 5952 for IPv6), so equal selectors compare equal as objects. */
function normalize(s: Selector): Selector {
  return { ...s, startAddress: fromBigInt(mustBigInt(s.startAddress), s.family), endAddress: fromBigInt(mustBigInt(s.endAddress), s.family) };
}

const IP_PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, sctp: 132 };

function protocolName(n: number): string {
  switch (n) {
    case 1:
      return 'icmp';
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 47:
      return 'gre';
    case 50:
      return 'esp';
    case 51:
      return 'ah';
    case 58:
      return 'ipv6-icmp';
    case 132:
      return 'sctp';
    default:
      return String(n);
  }
}

/**
 * strongSwan's `local_ts`/`remote_ts` form: a CIDR, address or range (selectorFromCidr), optionally
 * followed by '[proto]', '[proto/port]' or '[proto/start-end]' where proto is a number, a name
 * (tcp, udp, icmp, ...) or '%any', and the port a number, a range, '%any' or 'opaque'.
 */
export function parseSelector(text: string): Result<Selector, string> {
  const m = /^([^[\]]+?)\s*(?:\[([^\]/]*)(?:\/([^\]]*))?\])?$/.exec(text.trim());
  if (m === null) return err(`'${text}' is not a traffic selector`);
  const [, addressPart = '', protoPart, portPart] = m;
  let ipProtocol = 0;
  if (protoPart !== undefined && protoPart !== '' && protoPart !== '%any') {
    const named = IP_PROTOCOLS[protoPart.toLowerCase()];
    if (named !== undefined) ipProtocol = named;
    else if (/^\d{1,3}$/.test(protoPart) && Number(protoPart) <= 255) ipProtocol = Number(protoPart);
    else return err(`unknown IP protocol '${protoPart}'`);
  }
  let port: number | [number, number] | undefined;
  if (portPart !== undefined && portPart !== '' && portPart !== '%any') {
    const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portPart);
    if (portPart.toLowerCase() === 'opaque') port = [MAX_PORT, 0];
    else if (range !== null) port = range[2] === undefined ? Number(range[1]) : [Number(range[1]), Number(range[2])];
    else return err(`'${portPart}' is not a port or port range`);
  }
  return selectorFromCidr(addressPart, { ipProtocol, ...(port !== undefined ? { port } : {}) });
}

export function toWireSelector(s: Selector): AddressRangeSelector {
  const startAddress = parseIp(s.startAddress);
  const endAddress = parseIp(s.endAddress);
  const length = s.family === 4 ? 4 : 16;
  if (startAddress?.length !== length || endAddress?.length !== length) {
    throw new RangeError(`selector addresses ${s.startAddress} - ${s.endAddress} are not IPv${s.family}`);
  }
  return {
    tsType: s.family === 4 ? TsType.TS_IPV4_ADDR_RANGE : TsType.TS_IPV6_ADDR_RANGE,
    ipProtocolId: s.ipProtocol,
    startPort: s.startPort,
    endPort: s.endPort,
    startAddress,
    endAddress,
  };
}

export function fromWireSelector(ts: AddressRangeSelector): Selector {
  return {
    ipProtocol: ts.ipProtocolId,
    startPort: ts.startPort,
    endPort: ts.endPort,
    startAddress: formatIp(ts.startAddress),
    endAddress: formatIp(ts.endAddress),
    family: ts.tsType === TsType.TS_IPV4_ADDR_RANGE ? 4 : 6,
  };
}

/** The address-range selectors of a TS payload; other TS Types are dropped (not understood here). */
export function fromWireSelectors(selectors: readonly TrafficSelector[]): Selector[] {
  return selectors.filter(isAddressRange).map(fromWireSelector);
}

function intersectPorts(a: Selector, b: Selector): [number, number] | undefined {
  if (isOpaque(a) || isOpaque(b)) {
    const other = isOpaque(a) ? b : a;
    return isOpaque(other) || isAnyPort(other) ? [MAX_PORT, 0] : undefined;
  }
  const start = Math.max(a.startPort, b.startPort);
  const end = Math.min(a.endPort, b.endPort);
  return start <= end ? [start, end] : undefined;
}

/** The traffic both selectors cover, or undefined when there is none. */
export function intersect(a: Selector, b: Selector): Selector | undefined {
  if (a.family !== b.family) return undefined;
  let ipProtocol: number;
  if (a.ipProtocol === 0) ipProtocol = b.ipProtocol;
  else if (b.ipProtocol === 0 || b.ipProtocol === a.ipProtocol) ipProtocol = a.ipProtocol;
  else return undefined;
  const ports = intersectPorts(a, b);
  if (ports === undefined) return undefined;
  const aStart = mustBigInt(a.startAddress);
  const aEnd = mustBigInt(a.endAddress);
  const bStart = mustBigInt(b.startAddress);
  const bEnd = mustBigInt(b.endAddress);
  const start = aStart > bStart ? aStart : bStart;
  const end = aEnd < bEnd ? aEnd : bEnd;
  if (start > end) return undefined;
  // The common narrowing leaves one side as it was (a road warrior's 0.0.0.0/0 against our
  // 10.2.0.0/16): that selector itself is the answer. Selectors are never changed, so the Child
  // SAs of one connection then share the configured objects instead of holding a copy each.
  const isAnswer = (s: Selector, sStart: bigint, sEnd: bigint): boolean =>
    ipProtocol === s.ipProtocol && ports[0] === s.startPort && ports[1] === s.endPort && start === sStart && end === sEnd;
  if (isAnswer(b, bStart, bEnd)) return b;
  if (isAnswer(a, aStart, aEnd)) return a;
  return {
    ipProtocol,
    startPort: ports[0],
    endPort: ports[1],
    startAddress: fromBigInt(start, a.family),
    endAddress: fromBigInt(end, a.family),
    family: a.family,
  };
}

function sameSelector(a: Selector, b: Selector): boolean {
  return (
    a.family === b.family &&
    a.ipProtocol === b.ipProtocol &&
    a.startPort === b.startPort &&
    a.endPort === b.endPort &&
    mustBigInt(a.startAddress) === mustBigInt(b.startAddress) &&
    mustBigInt(a.endAddress) === mustBigInt(b.endAddress)
  );
}

/**
 * Every non-empty intersection of an offered selector with a configured one, in offered order
 * (then configured order), without duplicates. When that is the configured list itself, the
 * configured list is returned (shared, as intersect shares its selectors).
 */
export function narrow(offered: readonly Selector[], configured: readonly Selector[]): readonly Selector[] {
  const out: Selector[] = [];
  for (const o of offered) {
    for (const c of configured) {
      const i = intersect(o, c);
      if (i !== undefined && !out.some((x) => sameSelector(x, i))) out.push(i);
    }
  }
  return out.length === configured.length && out.every((x, k) => x === configured[k]) ? configured : out;
}

/**
 * The responder's narrowing (RFC 7296 2.9): TSi (the initiator's side) against our remote
 * selectors, TSr against our local ones. Both must leave something, else TS_UNACCEPTABLE.
 */
export function narrowTrafficSelectors(
  offered: { TSi: readonly Selector[]; TSr: readonly Selector[] },
  responderConfig: { local: readonly Selector[]; remote: readonly Selector[] },
): Result<{ TSi: readonly Selector[]; TSr: readonly Selector[] }, { kind: 'TS_UNACCEPTABLE'; reason: string }> {
  const TSi = narrow(offered.TSi, responderConfig.remote);
  const TSr = narrow(offered.TSr, responderConfig.local);
  if (TSi.length === 0 || TSr.length === 0) {
    const list = (l: readonly Selector[]) => (l.length === 0 ? 'none' : l.map(formatSelector).join(' '));
    const which = TSi.length === 0 && TSr.length === 0 ? 'TSi and TSr' : TSi.length === 0 ? 'TSi' : 'TSr';
    return err({
      kind: 'TS_UNACCEPTABLE',
      reason:
        `${which} do not intersect our policy: received TSi ${list(offered.TSi)}, TSr ${list(offered.TSr)}; ` +
        `configured remote ${list(responderConfig.remote)}, local ${list(responderConfig.local)}`,
    });
  }
  return ok({ TSi, TSr });
}

function contains(outer: Selector, inner: Selector): boolean {
  if (outer.family !== inner.family) return false;
  if (outer.ipProtocol !== 0 && outer.ipProtocol !== inner.ipProtocol) return false;
  if (isOpaque(inner)) {
    if (!isOpaque(outer) && !isAnyPort(outer)) return false;
  } else if (isOpaque(outer) || inner.startPort < outer.startPort || inner.endPort > outer.endPort || inner.startPort > inner.endPort) {
    return false;
  }
  return mustBigInt(outer.startAddress) <= mustBigInt(inner.startAddress) && mustBigInt(inner.endAddress) <= mustBigInt(outer.endAddress);
}

/**
 * The initiator's check of the responder's TSi or TSr (RFC 7296 2.9: the responder may only
 * narrow): every returned selector lies inside one offered selector. An empty list is not an
 * answer (a TS payload holds at least one selector, 3.13) and gives false.
 */
export function isSubsetOf(narrowed: readonly Selector[], offered: readonly Selector[]): boolean {
  return narrowed.length > 0 && narrowed.every((n) => offered.some((o) => contains(o, n)));
}

/** How many addresses a selector list spans (the smaller, the more specific). */
export function addressSpan(list: readonly Selector[]): bigint {
  let total = 0n;
  for (const s of list) total += mustBigInt(s.endAddress) - mustBigInt(s.startAddress) + 1n;
  return total;
}

/** An IPv4 address as an unsigned 32-bit number; undefined for anything else. */
function ipv4Value(address: string): number | undefined {
  const octets = parseIp(address);
  return octets?.length === 4 ? octets.readUInt32BE(0) : undefined;
}

/** The prefix length when [start, end] is exactly one CIDR block. */
function prefixLength(s: Selector): number | undefined {
  // IPv4 in plain numbers (a status formats every selector of every Child SA): exact in doubles.
  const start4 = s.family === 4 ? ipv4Value(s.startAddress) : undefined;
  const end4 = s.family === 4 ? ipv4Value(s.endAddress) : undefined;
  if (start4 !== undefined && end4 !== undefined) {
    const size = end4 - start4 + 1;
    const log = Math.log2(size);
    return size > 0 && Number.isInteger(log) && start4 % size === 0 ? 32 - log : undefined;
  }
  const start = mustBigInt(s.startAddress);
  const end = mustBigInt(s.endAddress);
  const size = end - start + 1n;
  if (size <= 0n || (size & (size - 1n)) !== 0n || (start & (size - 1n)) !== 0n) return undefined;
  return bits(s.family) - (size.toString(2).length - 1);
}

/** An address as formatIp writes it; an IPv4 text that parses is that already (no leading zeros). */
function canonicalAddress(address: string, family: 4 | 6): string {
  return family === 4 && ipv4Value(address) !== undefined ? address : fromBigInt(mustBigInt(address), family);
}

/**
 * '198.51.100.0/24' when the range is a CIDR block, else 'start-end'; then, as strongSwan prints
 * it, '[proto]' when a protocol is set and '[proto/port]' or '[proto/start-end]' when ports are
 * ('[tcp/80]', '[udp/1024-65535]', '[icmp/OPAQUE]'); nothing for any protocol and all ports.
 */
export function formatSelector(s: Selector): string {
  const prefix = prefixLength(s);
  const start = canonicalAddress(s.startAddress, s.family);
  const address = prefix !== undefined ? `${start}/${prefix}` : `${start}-${canonicalAddress(s.endAddress, s.family)}`;
  if (s.ipProtocol === 0 && isAnyPort(s)) return address;
  const proto = s.ipProtocol === 0 ? '%any' : protocolName(s.ipProtocol);
  if (isAnyPort(s)) return `${address}[${proto}]`;
  const ports = isOpaque(s) ? 'OPAQUE' : s.startPort === s.endPort ? String(s.startPort) : `${s.startPort}-${s.endPort}`;
  return `${address}[${proto}/${ports}]`;
}

