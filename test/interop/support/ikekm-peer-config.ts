/**
 * The JSON file an ikekm interop peer (ikekm-peer.ts) runs from, and its translation into the
 * engine's typed model (src/config/model.ts): the smallest faithful stand-in for the YAML
 * loader, so the lab writes plain JSON: proposals in strongSwan syntax parsed with the project's
 * own parser, identities parsed as strongSwan does, the PSK wrapped in SecretBytes.
 *
 * The file holds a PSK: the harness writes it with mode 0600.
 */
import {
  DEFAULT_ENGINE_SETTINGS,
  DEFAULT_FRAGMENTATION,
  DEFAULT_RETRANSMIT,
  lifetimeFromRekeySeconds,
  parseIdentityConfig,
  secretBytes,
  type ConnectionConfig,
  type DpdPolicy,
  type EngineConfig,
  type EngineSettings,
  type FragmentationPolicy,
  type Lifetime,
  type RetransmitPolicy,
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
  readonly local: { readonly address: string; readonly port?: number; readonly id: string; readonly psk: string };
  readonly remote: { readonly address: string; readonly port?: number; readonly id: string };
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

export function toConnectionConfig(c: PeerConnectionJson): ConnectionConfig {
  return {
    name: c.name,
    ikePolicy: {
      name: `${c.name}-ike`,
      version: 2,
      auth: 'psk',
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
    local: { address: c.local.address, port: c.local.port ?? 500, id: parseIdentityConfig(c.local.id), psk: secretBytes(c.local.psk) },
    remote: { address: c.remote.address, port: c.remote.port ?? 500, id: parseIdentityConfig(c.remote.id) },
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
