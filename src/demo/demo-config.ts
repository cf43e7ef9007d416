/**
 * The embedded configuration of `ikekm demo`: two ikekm
 * daemons on loopback that need no root and no file written first.
 *
 * - ikekm-a on 127.0.0.1 initiates (`start: on-load`), ikekm-b on 127.0.0.2 listens. All of
 *   127.0.0.0/8 is loopback on Linux, so both can bind the same unprivileged ports and still
 *   look like two hosts to the engine (distinct outer addresses, as in a real tunnel).
 * - The texts are the same YAML a user writes to /etc/ikekm/ikekm.yaml, run through the same
 *   loader (`parseConfig`): the demo doubles as a worked example of the file format.
 * - The PSK is a throwaway key drawn fresh for every run and never written to disk; it only
 *   lets the two demo daemons authenticate each other.
 * - With `auth: pubkey` (`ikekm demo --auth pubkey`) they authenticate with certificates instead
 *   (RFC 7296 2.15 signatures): a throwaway CA and one certificate per side, issued for the run
 *   into the temporary directory (demo-pki.ts); each side trusts that CA for its peer.
 * - Lifetimes are seconds, not hours (`allowShortLifetimes: true`), so the rekeys happen while
 *   someone watches. ikekm-b's are longer than ikekm-a's on purpose: ikekm-a then always starts
 *   the rekeys and the event stream reads the same every run. (Equal lifetimes also work — the
 *   engine resolves crossing rekeys, RFC 7296 2.8.1 — but the order of events would vary.)
 */
import { randomBytes } from 'node:crypto';

export type DemoSideName = 'ikekm-a' | 'ikekm-b';

export interface DemoSide {
  readonly name: DemoSideName;
  /** Loopback address this side binds and its peer sends to. */
  readonly address: string;
  readonly connection: string;
  readonly controlSocket: string;
  /** What `parseConfig` names in diagnostics (there is no file on disk). */
  readonly configLabel: string;
  readonly yaml: string;
  readonly childRekeySeconds: number;
  readonly ikeRekeySeconds: number;
  readonly start: 'on-load' | 'listen';
}

/** How the two daemons authenticate each other: a PSK (the default) or certificates. */
export type DemoAuth = 'psk' | 'pubkey';

/** One side's certificate files (absolute paths in the demo's temporary directory). */
export interface DemoCredentials {
  /** The CA that issued both sides' certificates: the peer's `remote.ca`. */
  readonly caCert: string;
  readonly cert: string;
  /** Mode 0600, as the configuration loader demands of a key file. */
  readonly key: string;
}

/** The IKE ID each daemon uses (and, with certificates, its certificate's dNSName). */
export const demoIdentity = (name: DemoSideName): string => `${name}.demo.invalid`;

export interface DemoPorts {
  readonly ike: number;
  readonly natt: number;
}

/** The ports tried first; `pickDemoPorts` moves to the next pair when they are taken. */
export const DEFAULT_DEMO_PORTS: DemoPorts = Object.freeze({ ike: 10500, natt: 14500 });

export const DEMO_ADDRESSES: Readonly<Record<DemoSideName, string>> = Object.freeze({
  'ikekm-a': '127.0.0.1',
  'ikekm-b': '127.0.0.2',
});

/** Rekey intervals: a Child SA every ~20 s and the IKE SA every ~60 s, driven by ikekm-a. */
export const DEMO_LIFETIMES: Readonly<Record<DemoSideName, { readonly childSeconds: number; readonly ikeSeconds: number }>> =
  Object.freeze({
    'ikekm-a': { childSeconds: 20, ikeSeconds: 60 },
    'ikekm-b': { childSeconds: 30, ikeSeconds: 90 },
  });

const IKE_PROPOSAL = 'aes256gcm16-prfsha384-x25519';
/** A DH group in a data policy proposal means PFS: every Child SA rekey runs a fresh X25519. */
const ESP_PROPOSAL = 'aes128gcm16-x25519';
const NETWORK_A = '198.51.100.0/24';
const NETWORK_B = '203.0.113.0/24';

export interface DemoConfigOptions {
  /** Directory for the control sockets (a fresh temporary directory, removed on exit). */
  readonly runtimeDir: string;
  readonly ports?: DemoPorts;
  /** Override only for tests; by default a random key for this run. */
  readonly psk?: string;
  /** Certificates instead of the PSK: each side's files (demo-pki.ts writes them). */
  readonly certificates?: Readonly<Record<DemoSideName, DemoCredentials>>;
}

/** A PSK for one run: 32 random octets as base64url (43 characters, within the 128 limit). */
export function throwawayPsk(): string {
  return randomBytes(32).toString('base64url');
}

export function demoSides(options: DemoConfigOptions): readonly [DemoSide, DemoSide] {
  const ports = options.ports ?? DEFAULT_DEMO_PORTS;
  const certificates = options.certificates;
  const psk = options.psk ?? throwawayPsk();
  const side = (name: DemoSideName, peer: DemoSideName, start: 'on-load' | 'listen', local: string, remote: string): DemoSide => {
    const controlSocket = `${options.runtimeDir}/${name}.sock`;
    const connection = `to-${peer}`;
    const lifetimes = DEMO_LIFETIMES[name];
    const yaml = renderSideYaml({
      name,
      peer,
      address: DEMO_ADDRESSES[name],
      peerAddress: DEMO_ADDRESSES[peer],
      ports,
      controlSocket,
      connection,
      auth: certificates === undefined ? { psk } : { credentials: certificates[name] },
      childSeconds: lifetimes.childSeconds,
      ikeSeconds: lifetimes.ikeSeconds,
      localNetwork: local,
      remoteNetwork: remote,
      start,
    });
    return {
      name,
      address: DEMO_ADDRESSES[name],
      connection,
      controlSocket,
      configLabel: `<embedded demo config ${name}>`,
      yaml,
      childRekeySeconds: lifetimes.childSeconds,
      ikeRekeySeconds: lifetimes.ikeSeconds,
      start,
    };
  };
  return [side('ikekm-a', 'ikekm-b', 'on-load', NETWORK_A, NETWORK_B), side('ikekm-b', 'ikekm-a', 'listen', NETWORK_B, NETWORK_A)];
}

interface SideTemplate {
  readonly name: DemoSideName;
  readonly peer: DemoSideName;
  readonly address: string;
  readonly peerAddress: string;
  readonly ports: DemoPorts;
  readonly controlSocket: string;
  readonly connection: string;
  readonly auth: { readonly psk: string } | { readonly credentials: DemoCredentials };
  readonly childSeconds: number;
  readonly ikeSeconds: number;
  readonly localNetwork: string;
  readonly remoteNetwork: string;
  readonly start: 'on-load' | 'listen';
}

// Values are JSON-quoted where they come from outside this file (paths, the key) so that no
// character in a temp directory name can change the YAML's structure.
function renderSideYaml(t: SideTemplate): string {
  const auth = 'psk' in t.auth ? 'psk' : 'pubkey';
  const sides =
    'psk' in t.auth
      ? `    # A throwaway key drawn for this run only; real configs use psk: { file: ... }.
    local:  { address: ${t.address}, port: ${t.ports.ike}, id: ${demoIdentity(t.name)}, psk: ${JSON.stringify(t.auth.psk)} }
    remote: { address: ${t.peerAddress}, port: ${t.ports.ike}, id: ${demoIdentity(t.peer)} }`
      : `    # Issued for this run by a throwaway CA (ikekm's own builder); the id is the certificate's dNSName.
    local:  { address: ${t.address}, port: ${t.ports.ike}, id: ${demoIdentity(t.name)}, cert: ${JSON.stringify(t.auth.credentials.cert)}, key: ${JSON.stringify(t.auth.credentials.key)} }
    remote: { address: ${t.peerAddress}, port: ${t.ports.ike}, id: ${demoIdentity(t.peer)}, ca: ${JSON.stringify(t.auth.credentials.caCert)} }`;
  return `# ikekm demo: ${t.name} (${t.start === 'on-load' ? 'initiates' : 'listens'})
daemon:
  listen: [${t.address}]
  ports: { ike: ${t.ports.ike}, natt: ${t.ports.natt} }
  control: ${JSON.stringify(t.controlSocket)}
  kernel: memory                # SAs kept in the process: no root needed, no traffic protected
  allowShortLifetimes: true     # seconds instead of hours, so the demo shows rekeys

ikePolicies:
  demo-ike: { version: 2, auth: ${auth}, proposals: [${IKE_PROPOSAL}], lifetime: ${t.ikeSeconds}s }

dataPolicies:
  demo-data: { protocol: esp, mode: tunnel, proposals: [${ESP_PROPOSAL}], lifetime: { time: ${t.childSeconds}s } }

connections:
  ${t.connection}:
    ikePolicy: demo-ike
    dataPolicy: demo-data
${sides}
    traffic: { local: [${t.localNetwork}], remote: [${t.remoteNetwork}] }
    start: ${t.start}
`;
}
