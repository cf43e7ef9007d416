/**
 * The JSON file an ikekm interop peer (ikekm-peer.ts) runs from, and its translation into the
 * engine's typed model (src/config/model.ts): the smallest faithful stand-in for the YAML
 * loader, so the lab writes plain JSON: proposals in strongSwan syntax parsed with the project's
 * own parser, identities parsed as strongSwan does, the PSK wrapped in SecretBytes.
 *
 * With `auth: 'pubkey'` a connection names PEM files instead of a PSK (`local.cert`, `local.key`,
 * `remote.ca`, `crl`): they are read when the file is translated and go through the loader's own
 * checks (src/config/certificate-credentials.ts: the key matches the certificate and is mode
 * 0600, the ID is in the certificate or defaults to its subject DN, CAs and CRLs parse), so a
 * peer holds exactly what `ikekm daemon` would make of the same files.
 *
 * The file holds a PSK: the harness writes it with mode 0600.
 */
import { readFileSync, statSync } from 'node:fs';
import { localCredential, peerTrust, type CredentialFile } from '../../../src/config/certificate-credentials.js';
import {
  DEFAULT_ENGINE_SETTINGS,
  DEFAULT_FRAGMENTATION,
  DEFAULT_RETRANSMIT,
  DEFAULT_SIGNATURE_POLICY,
  lifetimeFromRekeySeconds,
  parseIdentityConfig,
  secretBytes,
  type ConnectionConfig,
  type DpdPolicy,
  type EngineConfig,
  type EngineSettings,
  type FragmentationPolicy,
  type Lifetime,
  type LocalPeerConfig,
  type RemotePeerConfig,
  type RetransmitPolicy,
  type SignaturePolicy,
  type StartAction,
} from '../../../src/config/model.js';
import { parseProposal, type AlgorithmSet, type ProposalProtocol } from '../../../src/policy/proposal-syntax.js';

/** One connection as JSON (names as in ConnectionConfig; proposals in strongSwan syntax). */
export interface PeerConnectionJson {
  readonly name: string;
  /** IKE proposals, e.g. `aes128-sha256-modp2048`, in order of preference. */
  readonly ike: readonly string[];
  /** ESP proposals; a DH group means PFS. */
  readonly esp: readonly string[];
  readonly mode?: 'tunnel' | 'transport';
  /** Default 'psk'. */
  readonly auth?: 'psk' | 'pubkey';
  /** With `auth: 'pubkey'`: merged over DEFAULT_SIGNATURE_POLICY. */
  readonly signature?: Partial<SignaturePolicy>;
  /**
   * `psk` with `auth: 'psk'`; `cert` (PEM, end entity first, then intermediates) and `key` (PEM,
   * mode 0600) with `auth: 'pubkey'`, where `id` defaults to the certificate's subject DN.
   */
  readonly local: {
    readonly address: string;
    readonly port?: number;
    readonly id?: string;
    readonly psk?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly sendCert?: 'always' | 'ifasked';
  };
  /** `ca`: the CA certificate files the peer's chain must reach, with `auth: 'pubkey'`. */
  readonly remote: { readonly address: string; readonly port?: number; readonly id: string; readonly ca?: readonly string[] };
  /** CRL files (PEM or DER) of those CAs. */
  readonly crl?: readonly string[];
  readonly traffic: { readonly local: readonly string[]; readonly remote: readonly string[] };
  readonly start?: StartAction;
  /** Default: IKE SA 24 h, Child SA 60 min (lifetimeFromRekeySeconds). */
  readonly ikeLifetime?: Lifetime;
  readonly childLifetime?: Lifetime;
  readonly dpd?: DpdPolicy;
  readonly retransmit?: RetransmitPolicy;
  readonly fragmentation?: FragmentationPolicy;
  readonly initialContact?: boolean;
}

export interface PeerConfigJson {
  /** Local addresses the UDP transport binds (the lab side's outer address). */
  readonly bind: readonly string[];
  readonly ikePort: number;
  readonly nattPort: number;
  /** Merged over DEFAULT_ENGINE_SETTINGS (nattPort is taken from `nattPort`). */
  readonly settings?: Partial<EngineSettings>;
  readonly connections: readonly PeerConnectionJson[];
  readonly paths: {
    /** pino log, JSON lines, level debug. */
    readonly log: string;
    /** Directory of Wireshark's esp_sa and ikev2_decryption_table (src/daemon/runtime-ports.ts names them). */
    readonly keylogDir: string;
  };
  /** How long SIGTERM / quit waits for the peer to answer our Deletes (default 3000 ms). */
  readonly shutdownGraceMs?: number;
}

function algorithmSets(proposals: readonly string[], protocol: ProposalProtocol): AlgorithmSet[] {
  return proposals.map((text) => {
    const parsed = parseProposal(text, protocol);
    if (!parsed.ok) throw new Error(`${protocol} proposal ${JSON.stringify(text)}: ${parsed.error.message}`);
    return parsed.value;
  });
}

function credentialFile(path: string): CredentialFile {
  return { path, bytes: readFileSync(path), mode: statSync(path).mode & 0o777 };
}

/** The local and remote sides with their credentials: a PSK, or certificates checked as the loader checks them. */
function peerSides(c: PeerConnectionJson): { local: LocalPeerConfig; remote: RemotePeerConfig } {
  const remote = { address: c.remote.address, port: c.remote.port ?? 500, id: parseIdentityConfig(c.remote.id) };
  const endpoint = { address: c.local.address, port: c.local.port ?? 500 };
  if (c.auth !== 'pubkey') {
    if (c.local.psk === undefined) throw new Error(`connection ${c.name}: a psk is required with auth psk`);
    return { local: { ...endpoint, id: parseIdentityConfig(c.local.id ?? c.local.address), psk: secretBytes(c.local.psk) }, remote };
  }
  if (c.local.cert === undefined || c.local.key === undefined) throw new Error(`connection ${c.name}: cert and key are required with auth pubkey`);
  const atMs = Date.now();
  const trust = peerTrust({ cas: (c.remote.ca ?? []).map(credentialFile), crls: (c.crl ?? []).map(credentialFile), atMs });
  if (!trust.ok) throw new Error(`connection ${c.name}: ${trust.error.map((p) => p.message).join('; ')}`);
  const own = localCredential({
    cert: credentialFile(c.local.cert),
    key: credentialFile(c.local.key),
    id: c.local.id === undefined ? undefined : parseIdentityConfig(c.local.id),
    sendCert: c.local.sendCert ?? 'ifasked',
    atMs,
  });
  if (!own.ok) throw new Error(`connection ${c.name}: ${own.error.field}: ${own.error.message}`);
  return {
    local: { ...endpoint, id: own.value.id, certificate: own.value.certificate, privateKey: own.value.privateKey },
    remote: { ...remote, trust: trust.value.trust },
  };
}

export function toConnectionConfig(c: PeerConnectionJson): ConnectionConfig {
  const { local, remote } = peerSides(c);
  return {
    name: c.name,
    ikePolicy: {
      name: `${c.name}-ike`,
      version: 2,
      auth: c.auth ?? 'psk',
      ...(c.auth === 'pubkey' ? { signature: { ...DEFAULT_SIGNATURE_POLICY, ...c.signature } } : {}),
      proposals: c.ike,
      proposalSets: algorithmSets(c.ike, 'ike'),
      lifetime: c.ikeLifetime ?? lifetimeFromRekeySeconds(24 * 3600),
      ...(c.dpd === undefined ? {} : { dpd: c.dpd }),
      retransmit: c.retransmit ?? DEFAULT_RETRANSMIT,
      fragmentation: c.fragmentation ?? DEFAULT_FRAGMENTATION,
    },
    dataPolicy: {
      name: `${c.name}-data`,
      protocol: 'esp',
      mode: c.mode ?? 'tunnel',
      proposals: c.esp,
      proposalSets: algorithmSets(c.esp, 'esp'),
      lifetime: c.childLifetime ?? lifetimeFromRekeySeconds(3600),
    },
    local,
    remote,
    traffic: { local: [...c.traffic.local], remote: [...c.traffic.remote] },
    start: c.start ?? 'on-demand',
    ...(c.initialContact === undefined ? {} : { initialContact: c.initialContact }),
  };
}

export function toEngineConfig(json: PeerConfigJson): EngineConfig {
  return {
    settings: { ...DEFAULT_ENGINE_SETTINGS, ...(json.settings ?? {}), nattPort: json.nattPort },
    connections: json.connections.map(toConnectionConfig),
  };
}
