/**
 * swanctl.conf text for the common lab case: one IKEv2 (or IKEv1) connection with a preshared
 * key and one tunnel-mode Child SA. Anything unusual goes in `connExtra`/`childExtra`, or write
 * the text by hand: startCharon takes any swanctl.conf.
 */
import type { Lab, LabSide } from './netns.js';

export interface PskConnection {
  /** Connection name (default "lab"). */
  readonly name?: string;
  /** Child SA name (default "net"). */
  readonly child?: string;
  readonly version?: 1 | 2;
  readonly localAddrs: string;
  readonly remoteAddrs: string;
  /** Peer's IKE port when it is not 500 (e.g. ikekm on another port). */
  readonly remotePort?: number;
  readonly localId: string;
  readonly remoteId: string;
  readonly psk: string;
  /** IKE proposals (default aes128-sha256-modp2048). */
  readonly proposals?: string;
  /** ESP proposals (default aes128gcm16). */
  readonly espProposals?: string;
  readonly localTs: string;
  readonly remoteTs: string;
  /** Lines added inside `connections.NAME { … }`, e.g. `rekey_time = 0`. */
  readonly connExtra?: string;
  /** Lines added inside `children.CHILD { … }`. */
  readonly childExtra?: string;
}

function quote(value: string): string {
  if (/["\\\n]/.test(value)) throw new Error(`cannot put ${JSON.stringify(value)} into swanctl.conf as a quoted string`);
  return `"${value}"`;
}

export function pskSwanctlConf(c: PskConnection): string {
  const name = c.name ?? 'lab';
  const child = c.child ?? 'net';
  return `connections {
  ${name} {
    version = ${c.version ?? 2}
    local_addrs = ${c.localAddrs}
    remote_addrs = ${c.remoteAddrs}
${c.remotePort !== undefined ? `    remote_port = ${c.remotePort}\n` : ''}    proposals = ${c.proposals ?? 'aes128-sha256-modp2048'}
    local {
      auth = psk
      id = ${quote(c.localId)}
    }
    remote {
      auth = psk
      id = ${quote(c.remoteId)}
    }
    children {
      ${child} {
        local_ts = ${c.localTs}
        remote_ts = ${c.remoteTs}
        esp_proposals = ${c.espProposals ?? 'aes128gcm16'}
        mode = tunnel
${indent(c.childExtra, 8)}      }
    }
${indent(c.connExtra, 4)}  }
}
secrets {
  ike-${name} {
    id-local = ${quote(c.localId)}
    id-remote = ${quote(c.remoteId)}
    secret = ${quote(c.psk)}
  }
}
`;
}

function indent(text: string | undefined, spaces: number): string {
  if (text === undefined || text.trim() === '') return '';
  return `${text
    .trim()
    .split('\n')
    .map((l) => `${' '.repeat(spaces)}${l.trim()}`)
    .join('\n')}\n`;
}

export interface LabPskOptions extends Omit<PskConnection, 'localAddrs' | 'remoteAddrs' | 'localId' | 'remoteId' | 'localTs' | 'remoteTs' | 'psk'> {
  readonly psk?: string;
  /** Identities per side (default: the outer IPv4 address). */
  readonly ids?: { readonly a: string; readonly b: string };
  /** Use the IPv6 outer and inner addresses instead of IPv4. */
  readonly ipv6?: boolean;
}

/** The same connection seen from side `self` of the lab (addresses, IDs and TS mirrored). */
export function labPskConf(lab: Pick<Lab, 'a' | 'b'>, self: 'a' | 'b', options: LabPskOptions = {}): string {
  const me: LabSide = lab[self];
  const peer: LabSide = lab[self === 'a' ? 'b' : 'a'];
  const outer = (s: LabSide): string => (options.ipv6 ? required(s.outer6, 'outer6') : s.outer4);
  const inner = (s: LabSide): string => (options.ipv6 ? `${required(s.inner6, 'inner6')}/128` : `${s.inner4}/32`);
  const ids = options.ids ?? { a: outer(lab.a), b: outer(lab.b) };
  return pskSwanctlConf({
    ...options,
    psk: options.psk ?? 'ikekm-interop-lab-psk',
    localAddrs: outer(me),
    remoteAddrs: outer(peer),
    localId: ids[self],
    remoteId: ids[self === 'a' ? 'b' : 'a'],
    localTs: inner(me),
    remoteTs: inner(peer),
  });
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`the lab was created without IPv6 (${what})`);
  return value;
}

export interface LabPubkeyOptions {
  /** Connection name (default "lab"). */
  readonly name?: string;
  /** Child SA name (default "net"). */
  readonly child?: string;
  /** IKE proposals (default aes128-sha256-modp2048). */
  readonly proposals?: string;
  /** ESP proposals (default aes128gcm16). */
  readonly espProposals?: string;
  /** Our certificate: a file name in x509/ (`local.certs`); our ID is its subject DN. */
  readonly cert: string;
  /** The peer's ID (a DN, or a name its certificate carries as subjectAltName). */
  readonly remoteId: string;
  /** File names in x509ca/ the peer's chain must end at (`remote.cacerts`); default: any loaded CA. */
  readonly cacerts?: readonly string[];
  /** `local.auth` and `remote.auth` (default pubkey). */
  readonly auth?: string;
  /** `send_cert` (default: strongSwan's ifasked). */
  readonly sendCert?: 'always' | 'ifasked' | 'never';
  /** `fragmentation` (default: strongSwan's yes). */
  readonly fragmentation?: 'yes' | 'no' | 'accept' | 'force';
  /** Lines added inside `connections.NAME { … }`. */
  readonly connExtra?: string;
  /** Use the IPv6 outer and inner addresses instead of IPv4. */
  readonly ipv6?: boolean;
}

/**
 * The lab's connection from side `self` with signature authentication (`auth = pubkey`): our
 * certificate by file name, the peer by ID, trust anchors from x509ca/. No secrets section:
 * charon finds the private key in private/ by the certificate's public key.
 */
export function labPubkeyConf(lab: Pick<Lab, 'a' | 'b'>, self: 'a' | 'b', options: LabPubkeyOptions): string {
  const me: LabSide = lab[self];
  const peer: LabSide = lab[self === 'a' ? 'b' : 'a'];
  const outer = (s: LabSide): string => (options.ipv6 ? required(s.outer6, 'outer6') : s.outer4);
  const inner = (s: LabSide): string => (options.ipv6 ? `${required(s.inner6, 'inner6')}/128` : `${s.inner4}/32`);
  const name = options.name ?? 'lab';
  const auth = options.auth ?? 'pubkey';
  const lines = [
    `    version = 2`,
    `    local_addrs = ${outer(me)}`,
    `    remote_addrs = ${outer(peer)}`,
    `    proposals = ${options.proposals ?? 'aes128-sha256-modp2048'}`,
    ...(options.sendCert === undefined ? [] : [`    send_cert = ${options.sendCert}`]),
    ...(options.fragmentation === undefined ? [] : [`    fragmentation = ${options.fragmentation}`]),
  ];
  return `connections {
  ${name} {
${lines.join('\n')}
    local {
      auth = ${auth}
      certs = ${options.cert}
    }
    remote {
      auth = ${auth}
      id = ${quote(options.remoteId)}
${options.cacerts === undefined ? '' : `      cacerts = ${options.cacerts.join(', ')}\n`}    }
    children {
      ${options.child ?? 'net'} {
        local_ts = ${inner(me)}
        remote_ts = ${inner(peer)}
        esp_proposals = ${options.espProposals ?? 'aes128gcm16'}
        mode = tunnel
      }
    }
${indent(options.connExtra, 4)}  }
}
`;
}
