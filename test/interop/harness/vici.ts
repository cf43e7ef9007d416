/**
 * Parsing `swanctl --list-sas --pretty` into typed IKE/Child SA records.
 *
 * Why --pretty and not --raw: both print the same vici message tree, but --raw puts it on one
 * line with values unquoted, so a value containing spaces (an X.509 DN identity such as
 * `C=CH, O=Lab, CN=a`) cannot be told apart from the next `key=value`. --pretty puts every
 * key/value, list item and section on its own line, indented two spaces per level, which is
 * unambiguous for anything charon prints (values never contain newlines; non-printable values
 * are printed as 0x-hex). Format (libvici's dump, strongSwan 5.9):
 *
 *   list-sa event {
 *     NAME {
 *       key = value
 *       list = [
 *         item
 *       ]
 *       child-sas {
 *         CHILD-UNIQUEID { … }
 *       }
 *     }
 *   }
 *   list-sas reply {
 *   }
 */

export type ViciValue = string | readonly string[] | ViciSection;
export interface ViciSection {
  readonly [key: string]: ViciValue;
}
export interface ViciMessage {
  /** e.g. "list-sa event", "list-sas reply". */
  readonly label: string;
  readonly body: ViciSection;
}

/** Parses one or more pretty-printed vici messages. Throws on text that is not in that format. */
export function parseViciPretty(text: string): ViciMessage[] {
  const messages: ViciMessage[] = [];
  type Frame = { section: Record<string, ViciValue>; depth: number };
  let stack: Frame[] = [];
  let label: string | undefined;
  let list: { key: string; items: string[]; depth: number } | undefined;
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`vici pretty output line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (label === undefined) {
      if (line.trim() === '') return;
      const start = /^(\S.*) \{$/.exec(line);
      if (!start) return; // swanctl may print log/warning lines around messages
      label = start[1] ?? '';
      stack = [{ section: {}, depth: 1 }];
      return;
    }
    // Every line charon prints inside a message is indented or a brace; '' is the text's end.
    if (line === '') return;
    const top = stack[stack.length - 1] ?? fail('unbalanced');
    const indent = '  '.repeat(list ? list.depth : top.depth);
    if (list) {
      if (line === `${'  '.repeat(list.depth - 1)}]`) {
        top.section[list.key] = list.items;
        list = undefined;
        return;
      }
      if (!line.startsWith(indent)) fail('list item not indented');
      list.items.push(line.slice(indent.length));
      return;
    }
    const closeIndent = '  '.repeat(top.depth - 1);
    if (line === `${closeIndent}}`) {
      stack.pop();
      if (stack.length === 0) {
        messages.push({ label, body: top.section });
        label = undefined;
      }
      return;
    }
    if (!line.startsWith(indent) || line.charAt(indent.length) === ' ') fail('unexpected indentation');
    const content = line.slice(indent.length);
    const kv = /^([^\s=]+) = (.*)$/.exec(content);
    if (kv) {
      const key = kv[1] ?? '';
      const value = kv[2] ?? '';
      if (value === '[') list = { key, items: [], depth: top.depth + 1 };
      else top.section[key] = value;
      return;
    }
    const section = /^(.*) \{$/.exec(content);
    if (section) {
      const child: Record<string, ViciValue> = {};
      top.section[section[1] ?? ''] = child;
      stack.push({ section: child, depth: top.depth + 1 });
      return;
    }
    fail('neither key = value nor section');
  });
  if (label !== undefined) throw new Error(`vici pretty output ended inside message "${label}"`);
  return messages;
}

export interface ChildSaInfo {
  /** The key in `child-sas`, e.g. `net-3` (name and unique id). */
  readonly key: string;
  readonly name: string;
  readonly uniqueId: number;
  readonly reqid: number | undefined;
  /** CREATED, ROUTED, INSTALLING, INSTALLED, UPDATING, REKEYING, REKEYED, RETRYING, DELETING, DELETED, DESTROYING. */
  readonly state: string;
  /** TUNNEL, TRANSPORT, BEET, … */
  readonly mode: string;
  /** ESP or AH. */
  readonly protocol: string;
  /** UDP encapsulation (always yes under kernel-libipsec). */
  readonly encap: boolean;
  /** Inbound SPI, 8 lowercase hex digits (this side chose it). */
  readonly spiIn: string;
  /** Outbound SPI (the peer chose it). */
  readonly spiOut: string;
  /** strongSwan's names: AES_GCM_16, AES_CBC, … */
  readonly encrAlg: string | undefined;
  readonly encrKeysize: number | undefined;
  /** HMAC_SHA2_256_128, … (absent for AEAD). */
  readonly integAlg: string | undefined;
  /** PFS group, when one was used. */
  readonly dhGroup: string | undefined;
  readonly esn: boolean;
  readonly bytesIn: number;
  readonly packetsIn: number;
  readonly bytesOut: number;
  readonly packetsOut: number;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  readonly raw: ViciSection;
}

export interface IkeSaInfo {
  /** Connection name. */
  readonly name: string;
  readonly uniqueId: number;
  readonly version: number;
  /** CREATED, CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, DESTROYING. */
  readonly state: string;
  readonly localHost: string;
  readonly localPort: number;
  readonly localId: string;
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly remoteId: string;
  /** Whether this side initiated the IKE SA (original initiator; swapped after a rekey by the peer). */
  readonly initiator: boolean;
  /** IKE SPIs, 16 lowercase hex digits. */
  readonly spiI: string;
  readonly spiR: string;
  readonly natLocal: boolean;
  readonly natRemote: boolean;
  readonly natAny: boolean;
  readonly encrAlg: string | undefined;
  readonly encrKeysize: number | undefined;
  readonly integAlg: string | undefined;
  readonly prfAlg: string | undefined;
  readonly dhGroup: string | undefined;
  readonly childSas: readonly ChildSaInfo[];
  readonly raw: ViciSection;
}

/** Typed view of `swanctl --list-sas --pretty` output: one record per IKE SA. */
export function parseListSas(text: string): IkeSaInfo[] {
  const sas: IkeSaInfo[] = [];
  for (const message of parseViciPretty(text)) {
    if (message.label !== 'list-sa event') continue;
    for (const [name, value] of Object.entries(message.body)) {
      if (!isSection(value)) continue;
      sas.push(toIkeSa(name, value));
    }
  }
  return sas;
}

function toIkeSa(name: string, s: ViciSection): IkeSaInfo {
  const children = s['child-sas'];
  return {
    name,
    uniqueId: num(s, 'uniqueid') ?? -1,
    version: num(s, 'version') ?? 0,
    state: str(s, 'state') ?? '',
    localHost: str(s, 'local-host') ?? '',
    localPort: num(s, 'local-port') ?? 0,
    localId: str(s, 'local-id') ?? '',
    remoteHost: str(s, 'remote-host') ?? '',
    remotePort: num(s, 'remote-port') ?? 0,
    remoteId: str(s, 'remote-id') ?? '',
    initiator: yes(s, 'initiator'),
    spiI: str(s, 'initiator-spi') ?? '',
    spiR: str(s, 'responder-spi') ?? '',
    natLocal: yes(s, 'nat-local'),
    natRemote: yes(s, 'nat-remote'),
    natAny: yes(s, 'nat-any'),
    encrAlg: str(s, 'encr-alg'),
    encrKeysize: num(s, 'encr-keysize'),
    integAlg: str(s, 'integ-alg'),
    prfAlg: str(s, 'prf-alg'),
    dhGroup: str(s, 'dh-group'),
    childSas: isSection(children)
      ? Object.entries(children).flatMap(([key, c]) => (isSection(c) ? [toChildSa(key, c)] : []))
      : [],
    raw: s,
  };
}

function toChildSa(key: string, s: ViciSection): ChildSaInfo {
  return {
    key,
    name: str(s, 'name') ?? key,
    uniqueId: num(s, 'uniqueid') ?? -1,
    reqid: num(s, 'reqid'),
    state: str(s, 'state') ?? '',
    mode: str(s, 'mode') ?? '',
    protocol: str(s, 'protocol') ?? '',
    encap: yes(s, 'encap'),
    spiIn: str(s, 'spi-in') ?? '',
    spiOut: str(s, 'spi-out') ?? '',
    encrAlg: str(s, 'encr-alg'),
    encrKeysize: num(s, 'encr-keysize'),
    integAlg: str(s, 'integ-alg'),
    dhGroup: str(s, 'dh-group'),
    esn: str(s, 'esn') === '1' || yes(s, 'esn'),
    bytesIn: num(s, 'bytes-in') ?? 0,
    packetsIn: num(s, 'packets-in') ?? 0,
    bytesOut: num(s, 'bytes-out') ?? 0,
    packetsOut: num(s, 'packets-out') ?? 0,
    localTs: list(s, 'local-ts'),
    remoteTs: list(s, 'remote-ts'),
    raw: s,
  };
}

function isSection(v: ViciValue | undefined): v is ViciSection {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(s: ViciSection, key: string): string | undefined {
  const v = s[key];
  return typeof v === 'string' ? v : undefined;
}
function num(s: ViciSection, key: string): number | undefined {
  const v = str(s, key);
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
function yes(s: ViciSection, key: string): boolean {
  return str(s, key) === 'yes';
}
function list(s: ViciSection, key: string): readonly string[] {
  const v = s[key];
  return Array.isArray(v) ? (v as readonly string[]) : [];
}
