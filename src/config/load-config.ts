/**
 * The YAML configuration (/etc/ikekm/ikekm.yaml) → the engine's model (model.ts) plus the daemon's settings,
 * with every problem reported at its file, line and column. One file, four sections:
 *
 *   daemon:        listen, ports { ike, natt }, control, kernel, allowShortLifetimes, natKeepaliveSeconds, heapGrowthPercent,
 *                  limits { cookieThreshold, …: EngineSettings' defences, README }
 *   ikePolicies:   NAME: { version, auth, proposals, lifetime, dpd, retransmit, fragmentation }   (phase 1)
 *   dataPolicies:  NAME: { protocol, mode, proposals, lifetime }                                  (phase 2)
 *   connections:   NAME: { ikePolicy, dataPolicy, local, remote, traffic, start, initialContact,
 *                          dpdAction, closeAction }
 *
 * Decisions (the "why" an operator may ask about):
 * - Every section is optional; an empty file is a daemon with no connections (a warning says so).
 *   On reload such a file is refused unless it writes `connections: {}` (reportNoConnections):
 *   an empty file, or one cut before or just after `connections:`, is what an editor's or cp's
 *   half-written file looks like, and it would delete every tunnel.
 * - "Looks truncated" is decided only by signs a complete file never shows, so a valid file is
 *   never refused: no connections without `{}` (on reload), a file that changed while it was
 *   read (regular-file.ts), bytes that are not UTF-8, and control characters YAML does not allow
 *   (a NUL-filled tail). A cut that still parses (between two connections, or inside a value) is
 *   indistinguishable from an edit: write the file elsewhere and rename it into place.
 * - Files (the configuration, PSK files) are read off the event loop by readRegularFile: regular
 *   files only (a FIFO or /dev/zero is refused, never read), at most 1 MiB and 4 KiB.
 * - Proposals are strongSwan strings (proposal-syntax.ts): a list of proposals, or one string
 *   with commas as in swanctl.conf; `default` expands to DEFAULT_PROPOSALS. The model gets one
 *   string per AlgorithmSet, as written (trimmed).
 * - Lifetimes: a duration (`24h`) or `{ time, kilobytes }` (kilobytes for data policies only).
 *   A kilobyte is 1024 bytes. strongSwan's life_bytes counts plain bytes, so a swanctl value is
 *   divided by 1024 when translated. Rekey at `time`, hard expiry and jitter from
 *   lifetimeFromRekeySeconds. Defaults as IBM i's: IKE SA 24h, data 60m.
 * - Durations: a whole number of seconds, or a number with s, m, h or d (30s, 5m, 24h, 1d).
 *   Retransmit timeouts also take fractions and ms (0.5s, 500ms), because tests shorten them.
 * - A PSK is 8 to 128 characters and not one character repeated. 128 is the seed's limit;
 *   8 is the smallest string that is more than a placeholder. Raw bytes are written as strongSwan
 *   writes them, `0x` + hex or `0s` + base64 (8 to 128 bytes; psk-value.ts). It is either inline
 *   or `{ file: PATH }` (relative paths are relative to the configuration's directory). A file
 *   that is text is read as an inline PSK with one trailing newline dropped, as editors add it;
 *   any other file is the key byte for byte. An inline PSK in a configuration, or a PSK file,
 *   that group or others can read draws a warning, as ssh does for private keys.
 * - IDs as strongSwan writes them (parseIdentityConfig); a missing id is the peer's address.
 * - Addresses are literal IPv4/IPv6 (host names are not resolved); the remote may be `%any`
 *   (a responder for any peer: it needs an explicit id and `start: listen`). Addresses are
 *   stored in canonical form (RFC 5952) because the engine compares them as text.
 * - `start` defaults to `listen` (strongSwan's start_action = none).
 * - `dpdAction` (clear, restart, trap) and `closeAction` (none, start, trap) as strongSwan's
 *   dpd_action and close_action; their defaults depend on `start` (model.ts restartActions).
 *   `trap` needs the trap of `start: on-demand`; restarting needs a remote address.
 * - Local port defaults to daemon.ports.ike, remote port to 500.
 * - Lifetimes under 5 minutes are errors unless daemon.allowShortLifetimes; then each draws a warning.
 * - YAML aliases are refused; duplicate keys are errors (with the line of the first).
 * - Nothing here throws on bad input: every problem becomes a diagnostic, all of them are
 *   collected, sorted by position. On failure the diagnostics include the warnings too. Values
 *   echoed in a diagnostic are quoted, cut to 64 characters and escaped (config-diagnostic.ts).
 */
import { isUtf8 } from 'node:buffer';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { DEFAULT_PROPOSALS, parseProposalList, type AlgorithmSet, type ProposalSyntaxError, type ProposalProtocol } from '../policy/proposal-syntax.js';
import { selectorFromCidr } from '../policy/traffic-selectors.js';
import { err, ok, type Result } from '../result.js';
import { canonicalIp } from '../wire/ip-address.js';
import { looksLikeDistinguishedName, parseDistinguishedName } from '../pki/distinguished-name.js';
import { MAX_QUOTED_PATH_CHARS, printable, quoted, sortDiagnostics, type ConfigDiagnostic } from './config-diagnostic.js';
import { DEFAULT_DAEMON_SETTINGS, KERNEL_BACKENDS, MAX_HEAP_GROWTH_PERCENT, type DaemonSettings } from './daemon-settings.js';
import { pskFromFile, pskFromText } from './psk-value.js';
import { localChainProblem, localCredential, peerTrust, type CredentialField, type CredentialFile } from './certificate-credentials.js';
import { CONFIG_FILE_MAX_BYTES, errnoText, PSK_FILE_MAX_BYTES, readRegularFile } from './regular-file.js';
import {
  CHILD_SA_DEFAULT_REKEY_S,
  DEFAULT_ENGINE_SETTINGS,
  DEFAULT_FRAGMENTATION,
  DEFAULT_RETRANSMIT,
  IKE_SA_DEFAULT_REKEY_S,
  lifetimeFromRekeySeconds,
  MINIMUM_LIFETIME_SECONDS,
  parseIdentityConfig,
  secretBytes,
  DEFAULT_SIGNATURE_POLICY,
  type AuthMode,
  type CloseAction,
  type ConnectionConfig,
  type DpdAction,
  type DataPolicy,
  type DpdPolicy,
  type EngineConfig,
  type EngineSettings,
  type FragmentationPolicy,
  type IdentityConfig,
  type IkePolicy,
  type Lifetime,
  type LocalPeerConfig,
  type RemotePeerConfig,
  type RetransmitPolicy,
  type SecretBytes,
  type SignaturePolicy,
  type StartAction,
} from './model.js';
import {
  byKey,
  describe,
  offsetInString,
  offsetOf,
  readBoolean,
  readInteger,
  readList,
  readMap,
  readNumber,
  readScalar,
  readString,
  Reporter,
  type Entry,
  type Field,
} from './yaml-reader.js';

export interface LoadedConfig {
  readonly file: string;
  readonly daemon: DaemonSettings;
  readonly engine: EngineConfig;
  readonly warnings: readonly ConfigDiagnostic[];
}

/** A secret file's content as read, and its st_mode (for the warning about secrets others can read). */
export interface SecretFile {
  readonly bytes: Buffer;
  readonly mode?: number;
}

export interface ConfigSourceOptions {
  /**
   * Reads a secret file (an absolute path), throwing on failure. parseConfig has no default: files
   * are read by loadConfigFile, asynchronously and with limits (regular-file.ts).
   */
  readonly readFile?: (path: string) => SecretFile;
  /** st_mode of the configuration file, for the warning about inline secrets others can read. */
  readonly fileMode?: number;
  /**
   * The file is to replace a running configuration (SIGHUP, `ikekm reload`): a file without a
   * single connection is refused unless it says so with `connections: {}`, because an empty or
   * half-written file would otherwise delete every tunnel.
   */
  readonly reload?: boolean;
  /** "Now" for the certificates' validity (tests); default the wall clock. */
  readonly nowMs?: number;
}

// ---- the schema's words ----

const TOP_KEYS = ['daemon', 'ikePolicies', 'dataPolicies', 'connections'] as const;
const DAEMON_KEYS = ['listen', 'ports', 'control', 'kernel', 'allowShortLifetimes', 'natKeepaliveSeconds', 'heapGrowthPercent', 'limits'] as const;
/** `daemon.limits`: the engine's defences against floods and guessing (EngineSettings, README). */
const COUNT_LIMIT_KEYS = [
  'cookieThreshold',
  'cookieThresholdPerAddress',
  'blockThresholdPerAddress',
  'maxHalfOpen',
  'maxIkeSas',
  'halfOpenBudgetBytes',
  'ikeSaInitPerSecond',
  'loadLimitPercent',
  'authFailuresBeforeBackoff',
  'invalidSpiAnswersPerSecond',
  'maxChildSasPerIkeSa',
  'maxNewChildSasPerMinute',
] as const;
const DURATION_LIMIT_KEYS = ['authBackoffSeconds', 'authBackoffMaxSeconds'] as const;
const LIMIT_KEYS = [...COUNT_LIMIT_KEYS, ...DURATION_LIMIT_KEYS] as const;
type EngineLimits = Partial<Pick<EngineSettings, (typeof LIMIT_KEYS)[number]>>;
const PORT_KEYS = ['ike', 'natt'] as const;
const IKE_POLICY_KEYS = ['version', 'auth', 'signature', 'proposals', 'lifetime', 'dpd', 'retransmit', 'fragmentation'] as const;
const SIGNATURE_KEYS = ['rsaPadding', 'digitalSignature'] as const;
/**
 * `auth`: strongSwan's words (psk, pubkey, rsa, ecdsa) and IBM i's (rsa-signature; ecdsa-signature
 * beside it). rsa and ecdsa demand that key type of both sides, as strongSwan's `auth = rsa`.
 */
const AUTH_WORDS: Readonly<Record<string, { readonly auth: AuthMode; readonly keyType?: 'rsa' | 'ecdsa' }>> = {
  psk: { auth: 'psk' },
  pubkey: { auth: 'pubkey' },
  rsa: { auth: 'pubkey', keyType: 'rsa' },
  'rsa-signature': { auth: 'pubkey', keyType: 'rsa' },
  ecdsa: { auth: 'pubkey', keyType: 'ecdsa' },
  'ecdsa-signature': { auth: 'pubkey', keyType: 'ecdsa' },
};
const DATA_POLICY_KEYS = ['protocol', 'mode', 'proposals', 'lifetime'] as const;
const LIFETIME_KEYS = ['time', 'kilobytes'] as const;
const DPD_KEYS = ['interval', 'timeout'] as const;
const RETRANSMIT_KEYS = ['timeout', 'base', 'tries', 'limit'] as const;
const FRAGMENTATION_KEYS = ['enabled', 'maxDatagramSize'] as const;
const CONNECTION_KEYS = ['ikePolicy', 'dataPolicy', 'local', 'remote', 'traffic', 'crl', 'start', 'initialContact', 'dpdAction', 'closeAction'] as const;
const LOCAL_KEYS = ['address', 'port', 'id', 'psk', 'cert', 'key', 'pkcs12', 'passphrase', 'sendCert'] as const;
const REMOTE_KEYS = ['address', 'port', 'id', 'ca'] as const;
/** Keys that belong to one authentication method only. */
const PUBKEY_LOCAL_KEYS = ['cert', 'key', 'pkcs12', 'passphrase', 'sendCert'] as const;
/** Certificate, CA and CRL files may be bundles; a CRL of a large CA runs to megabytes. */
const CERTIFICATE_FILE_MAX_BYTES = 1024 * 1024;
const CRL_FILE_MAX_BYTES = 16 * 1024 * 1024;
const KEY_FILE_MAX_BYTES = 64 * 1024;
const PSK_FILE_KEYS = ['file'] as const;
const TRAFFIC_KEYS = ['local', 'remote'] as const;
const START_ACTIONS: readonly StartAction[] = ['on-load', 'on-demand', 'listen'];
const DPD_ACTIONS: readonly DpdAction[] = ['clear', 'restart', 'trap'];
const CLOSE_ACTIONS: readonly CloseAction[] = ['none', 'start', 'trap'];
const MODES: readonly DataPolicy['mode'][] = ['tunnel', 'transport'];

/**
 * The project's defaults, as IBM i: phase 1 about once a day, phase 2 every 60 minutes
 * (strongSwan's own are 4h and 1h; a swanctl.conf copied over keeps its explicit values).
 */
const DEFAULT_IKE_LIFETIME_SECONDS = IKE_SA_DEFAULT_REKEY_S;
const DEFAULT_DATA_LIFETIME_SECONDS = CHILD_SA_DEFAULT_REKEY_S;
/** Without a `timeout`, a peer is dead after five unanswered intervals. */
const DEFAULT_DPD_TIMEOUT_INTERVALS = 5;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * Deeply nested flow collections ('[[[[…') make the YAML parser exhaust memory and abort the
 * process (seen with a few thousand levels), which no try/catch can stop; a real configuration
 * nests a handful of levels.
 */
const MAX_FLOW_NESTING = 128;
const DURATION_HELP = 'write seconds or a number followed by s, m, h or d (30s, 5m, 24h, 1d)';
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_SECONDS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

// ---- entry points ----

export function parseConfig(text: string, file: string, options: ConfigSourceOptions = {}): Result<LoadedConfig, readonly ConfigDiagnostic[]> {
  const readFile = options.readFile;
  return guarded(file, () => {
    const parsed = parseYaml(text, file);
    if (!parsed.ok) return parsed;
    return walk(parsed.value, options, (path) => {
      if (readFile === undefined) return err('secret files are read by loadConfigFile only');
      try {
        return ok(readFile(path));
      } catch (e) {
        return err(errnoText(e));
      }
    });
  });
}

/**
 * Reads and parses the configuration file, then its PSK files, all asynchronously (the daemon
 * keeps serving while a reload reads) and through readRegularFile: regular files only, at most
 * CONFIG_FILE_MAX_BYTES and PSK_FILE_MAX_BYTES, never blocking on a FIFO. Every problem is a
 * diagnostic; this never rejects.
 */
export async function loadConfigFile(file: string, options: { readonly reload?: boolean } = {}): Promise<Result<LoadedConfig, readonly ConfigDiagnostic[]>> {
  const read = await readRegularFile(file, CONFIG_FILE_MAX_BYTES);
  if (!read.ok) return err([wholeFile(file, `cannot read the configuration: ${read.error}`)]);
  if (!isUtf8(read.value.bytes)) return err([wholeFile(file, 'the configuration is not UTF-8 text')]);
  const text = read.value.bytes.toString('utf8');
  const parsed = guarded(file, () => parseYaml(text, file));
  if (!parsed.ok) return parsed;
  const source: ConfigSourceOptions = { fileMode: read.value.mode, ...(options.reload === undefined ? {} : { reload: options.reload }) };
  // The walk names the secret files it needs; they are read, then the walk runs again with them.
  const wanted = new Map<string, number>();
  const first = guarded(file, () => walk(parsed.value, source, (path, maxBytes = PSK_FILE_MAX_BYTES) => (wanted.set(path, Math.max(wanted.get(path) ?? 0, maxBytes)), undefined)));
  if (wanted.size === 0) return first;
  const secrets = new Map(await Promise.all([...wanted].map(async ([path, maxBytes]) => [path, await readRegularFile(path, maxBytes)] as const)));
  try {
    return guarded(file, () => walk(parsed.value, source, (path) => secrets.get(path) ?? err('not read')));
  } finally {
    for (const secret of secrets.values()) if (secret.ok) secret.value.bytes.fill(0);
  }
}

/** A bug in the loader must not take the daemon down on reload; the fuzz test asserts this never shows. */
function guarded<T>(file: string, run: () => Result<T, readonly ConfigDiagnostic[]>): Result<T, readonly ConfigDiagnostic[]> {
  try {
    return run();
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return err([wholeFile(file, `internal error while reading the configuration: ${reason}`)]);
  }
}

function wholeFile(file: string, message: string): ConfigDiagnostic {
  return { severity: 'error', file, line: 1, column: 1, path: '', message: printable(message) };
}

// ---- the walk ----

/**
 * A secret file's content, or why it could not be read; undefined while loadConfigFile has not
 * read it yet (its first walk only collects the paths).
 */
type SecretLookup = (path: string, maxBytes?: number) => Result<SecretFile, string> | undefined;

interface Context {
  readonly r: Reporter;
  readonly source: string;
  readonly file: string;
  readonly options: ConfigSourceOptions;
  readonly secrets: SecretLookup;
  daemon: DaemonSettings;
  /** `daemon.limits`, over DEFAULT_ENGINE_SETTINGS. */
  limits: EngineLimits;
}

/** The YAML document, before the schema: parsed once, walked once or twice. */
interface ParsedYaml {
  readonly text: string;
  readonly file: string;
  readonly lines: LineCounter;
  readonly root: Node | null;
  readonly yamlDiagnostics: readonly ConfigDiagnostic[];
}

function parseYaml(text: string, file: string): Result<ParsedYaml, readonly ConfigDiagnostic[]> {
  const lines = new LineCounter();
  const r = new Reporter(file, lines);
  const deep = tooDeep(text);
  const unprintable = deep === undefined ? firstUnprintable(text) : undefined;
  if (deep !== undefined || unprintable !== undefined) {
    // The parser never ran, so the line table is filled here.
    lines.addNewLine(0);
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lines.addNewLine(i + 1);
    if (deep !== undefined) r.at('error', deep, '', `collections nested more than ${MAX_FLOW_NESTING} levels deep`);
    if (unprintable !== undefined) {
      const code = text.charCodeAt(unprintable).toString(16).toUpperCase().padStart(4, '0');
      r.at('error', unprintable, '', `character U+${code} is not allowed in a YAML file (YAML 1.2 5.1: printable characters only; write it as an escape in a double-quoted string)${code === '0000' ? '; NUL bytes are what a crash can leave of a half-written file' : ''}`);
    }
    return err(r.diagnostics);
  }
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, strict: true });
  for (const e of doc.errors) r.at('error', e.pos[0], '', `YAML: ${e.message}`);
  for (const w of doc.warnings) r.at('warning', w.pos[0], '', `YAML: ${w.message}`);
  if (doc.errors.length > 0) return err(sortDiagnostics(r.diagnostics));
  return ok({ text, file, lines, root: (doc.contents as Node | null) ?? null, yamlDiagnostics: r.diagnostics });
}

/**
 * YAML 1.2 5.1 allows tab, LF, CR, NEL and printable characters only. Other controls are refused
 * before parsing (the parser takes them into scalars): raw, they would reach terminals through
 * diagnostics, and a run of NULs is a crashed write's leftover, not configuration.
 */
function firstUnprintable(text: string): number | undefined {
  const i = text.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/);
  return i < 0 ? undefined : i;
}

function walk(parsed: ParsedYaml, options: ConfigSourceOptions, secrets: SecretLookup): Result<LoadedConfig, readonly ConfigDiagnostic[]> {
  const { file, lines, root } = parsed;
  const r = new Reporter(file, lines);
  r.diagnostics.push(...parsed.yamlDiagnostics);
  const ctx: Context = { r, source: parsed.text, file, options, secrets, daemon: DEFAULT_DAEMON_SETTINGS, limits: {} };
  const sections = isEmpty(root)
    ? new Map<string, Entry>()
    : byKey(r, { node: root, path: '', offset: 0 }, readMap(r, { node: root, path: '', offset: 0 }, TOP_KEYS, `a mapping with the keys ${TOP_KEYS.join(', ')}`));

  // The daemon section first wherever it is written: allowShortLifetimes decides about lifetimes.
  const daemonEntry = sections.get('daemon');
  if (daemonEntry !== undefined) ctx.daemon = readDaemon(ctx, daemonEntry);

  const ikePolicies = readNamed(ctx, sections.get('ikePolicies'), 'IKE policies', (name, e) => readIkePolicy(ctx, name, e));
  const dataPolicies = readNamed(ctx, sections.get('dataPolicies'), 'data policies', (name, e) => readDataPolicy(ctx, name, e));
  const used = new Set<string>();
  const connectionsEntry = sections.get('connections');
  const connections = readNamed(ctx, connectionsEntry, 'connections', (name, e) =>
    readConnection(ctx, name, e, { ike: ikePolicies, data: dataPolicies, used }),
  );

  for (const [kind, policies] of [['ikePolicies', ikePolicies], ['dataPolicies', dataPolicies]] as const) {
    for (const [name, p] of policies) {
      if (!used.has(`${kind}/${name}`)) r.at('warning', p.keyOffset, `${kind}.${name}`, 'not used by any connection');
    }
  }
  // Only worth saying about an otherwise valid file: with errors, the empty map is rarely the news.
  if (connections.size === 0 && r.errorCount === 0) reportNoConnections(ctx, connectionsEntry);

  const diagnostics = sortDiagnostics(r.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return err(diagnostics);
  const list: ConnectionConfig[] = [];
  for (const c of connections.values()) if (c.value !== undefined) list.push(c.value);
  return ok({
    file,
    daemon: ctx.daemon,
    engine: { settings: { ...DEFAULT_ENGINE_SETTINGS, ...ctx.limits, nattPort: ctx.daemon.ports.natt }, connections: list },
    warnings: diagnostics,
  });
}

/**
 * No connections: at start a daemon that waits (a warning). On reload it would delete every
 * tunnel, and an empty file, a file cut before its connections, or `connections:` with nothing
 * after it is what an editor's or cp's half-written file looks like: refused unless the file
 * says `connections: {}`, which no truncation produces.
 */
function reportNoConnections(ctx: Context, entry: Entry | undefined): void {
  const at = entry?.keyOffset ?? 0;
  const path = entry === undefined ? '' : 'connections';
  const explicit = entry !== undefined && entry.node !== null && isMap(entry.node) && entry.node.flow === true;
  if (explicit) {
    ctx.r.at('warning', at, path, 'no connections are defined; the daemon will start and wait');
  } else if (ctx.options.reload === true) {
    ctx.r.at('error', at, path, 'no connections are defined: reload refused, as an empty or half-written file would delete every tunnel; write connections: {} to mean it');
  } else {
    ctx.r.at('warning', at, path, 'no connections are defined; the daemon will start and wait (a reload with this file is refused unless it says connections: {})');
  }
}

/** The offset of the first flow bracket nested deeper than MAX_FLOW_NESTING, if any. */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_NESTING) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

function isEmpty(node: Node | null): boolean {
  return node === null || (isScalar(node) && (node.value === null || node.value === undefined));
}

/** Where to report "missing key" for a named object: at its name. */
function anchor(entry: Entry): Field {
  return { node: null, path: entry.path, offset: entry.keyOffset };
}

interface Named<T> {
  readonly keyOffset: number;
  /** undefined when the object had errors (they are reported; references to it stay quiet). */
  readonly value: T | undefined;
}

/** A section of named objects (`ikePolicies`, `dataPolicies`, `connections`); an empty value is an empty section. */
function readNamed<T>(ctx: Context, section: Entry | undefined, what: string, read: (name: string, entry: Entry) => T | undefined): Map<string, Named<T>> {
  const out = new Map<string, Named<T>>();
  if (section === undefined || isEmpty(section.node)) return out;
  const entries = readMap(ctx.r, section, undefined, `a mapping of names to ${what}`);
  for (const entry of entries ?? []) {
    if (!NAME_PATTERN.test(entry.key)) {
      ctx.r.at('error', entry.keyOffset, entry.path, `name ${quoted(entry.key)} is not allowed: use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit`);
      continue;
    }
    out.set(entry.key, { keyOffset: entry.keyOffset, value: read(entry.key, entry) });
  }
  return out;
}

// ---- daemon ----

function readDaemon(ctx: Context, section: Entry): DaemonSettings {
  const { r } = ctx;
  const d = DEFAULT_DAEMON_SETTINGS;
  if (isEmpty(section.node)) return d;
  const keys = byKey(r, section, readMap(r, section, DAEMON_KEYS));

  let listen = d.listen;
  const listenEntry = keys.get('listen');
  if (listenEntry !== undefined) {
    const items = isScalar(listenEntry.node) ? [listenEntry as Field] : readList(r, listenEntry, 'a list of addresses');
    if (items !== undefined) {
      if (items.length === 0) r.error(listenEntry, 'listen needs at least one address');
      const addresses: string[] = [];
      for (const item of items) {
        const a = readString(r, item, { what: 'an address' });
        if (a === undefined) continue;
        const canonical = canonicalIp(a.trim());
        if (canonical === undefined) r.error(item, `${quoted(a)} is not an IPv4 or IPv6 address`);
        else addresses.push(canonical);
      }
      listen = addresses;
    }
  }

  let ports = d.ports;
  const portsEntry = keys.get('ports');
  if (portsEntry !== undefined) {
    const p = byKey(r, portsEntry, readMap(r, portsEntry, PORT_KEYS));
    const ike = optional(p.get('ike'), (f) => readInteger(r, f, 1, 65535, 'a port')) ?? d.ports.ike;
    const nattEntry = p.get('natt');
    const natt = optional(nattEntry, (f) => readInteger(r, f, 1, 65535, 'a port')) ?? d.ports.natt;
    if (ike === natt) r.error(nattEntry ?? portsEntry, `the NAT-T port must differ from the IKE port (${ike})`);
    ports = { ike, natt };
  }

  const control =
    optional(keys.get('control'), (f) => {
      const s = readString(r, f, { what: 'a socket path' });
      if (s === '') r.error(f, 'control needs a socket path');
      return s === '' ? undefined : s;
    }) ?? d.control;

  const kernel =
    optional(keys.get('kernel'), (f) => {
      const s = readString(r, f, { what: 'a kernel backend name' });
      if (s === undefined) return undefined;
      const found = KERNEL_BACKENDS.find((k) => k === s);
      if (found === undefined) r.error(f, `kernel ${quoted(s)} is not available; allowed: ${KERNEL_BACKENDS.join(', ')}`);
      return found;
    }) ?? d.kernel;

  const allowShortLifetimes = optional(keys.get('allowShortLifetimes'), (f) => readBoolean(r, f)) ?? d.allowShortLifetimes;
  const natKeepaliveSeconds = optional(keys.get('natKeepaliveSeconds'), (f) => readDuration(ctx, f)) ?? d.natKeepaliveSeconds;
  const heapGrowthPercent = optional(keys.get('heapGrowthPercent'), (f) => readInteger(r, f, 0, MAX_HEAP_GROWTH_PERCENT, 'a percentage')) ?? d.heapGrowthPercent;
  const limitsEntry = keys.get('limits');
  if (limitsEntry !== undefined) ctx.limits = readLimits(ctx, limitsEntry);
  return { listen, ports, control, kernel, allowShortLifetimes, natKeepaliveSeconds, heapGrowthPercent };
}

/** Whole numbers (0 turns a COOKIE or block threshold off), durations in seconds. */
function readLimits(ctx: Context, section: Entry): EngineLimits {
  const { r } = ctx;
  if (isEmpty(section.node)) return {};
  const keys = byKey(r, section, readMap(r, section, LIMIT_KEYS));
  const limits: Record<string, number> = {};
  for (const key of COUNT_LIMIT_KEYS) {
    const v = optional(keys.get(key), (f) => readInteger(r, f, 0, Number.MAX_SAFE_INTEGER, 'a whole number'));
    if (v !== undefined) limits[key] = v;
  }
  for (const key of DURATION_LIMIT_KEYS) {
    const v = optional(keys.get(key), (f) => readDuration(ctx, f));
    if (v !== undefined) limits[key] = v;
  }
  return limits as EngineLimits;
}

function optional<T>(entry: Entry | undefined, read: (f: Entry) => T | undefined): T | undefined {
  return entry === undefined ? undefined : read(entry);
}

// ---- durations and lifetimes ----

/** Whole seconds > 0. */
function readDuration(ctx: Context, field: Field): number | undefined {
  const v = readScalar(ctx.r, field, `a duration (${DURATION_HELP})`);
  if (v === undefined) return undefined;
  let seconds: number | undefined;
  if (typeof v === 'number') seconds = Number.isInteger(v) ? v : undefined;
  else {
    const m = /^\s*(\d{1,12})\s*([smhd]?)\s*$/.exec(v);
    if (m !== null) seconds = Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? 1);
  }
  if (seconds === undefined || !Number.isSafeInteger(seconds)) {
    ctx.r.error(field, `${quoted(String(v))} is not a duration: ${DURATION_HELP}`);
    return undefined;
  }
  if (seconds <= 0) {
    ctx.r.error(field, 'a duration must be more than 0 seconds');
    return undefined;
  }
  return seconds;
}

/** Milliseconds > 0, from seconds with fractions or a ms/s/m/h suffix (retransmission waits). */
function readDurationMs(ctx: Context, field: Field): number | undefined {
  const help = 'write seconds or a number followed by ms, s, m or h (500ms, 0.5s, 4s)';
  const v = readScalar(ctx.r, field, `a duration (${help})`);
  if (v === undefined) return undefined;
  let ms: number | undefined;
  if (typeof v === 'number') ms = v * 1000;
  else {
    const m = /^\s*(\d{1,9}(?:\.\d{1,6})?)\s*(ms|s|m|h)?\s*$/.exec(v);
    if (m !== null) ms = Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
  }
  if (ms === undefined || !Number.isFinite(ms)) {
    ctx.r.error(field, `${quoted(String(v))} is not a duration: ${help}`);
    return undefined;
  }
  const rounded = Math.round(ms);
  if (rounded <= 0) {
    ctx.r.error(field, 'a duration must be at least 1 millisecond');
    return undefined;
  }
  return rounded;
}

function checkShortLifetime(ctx: Context, field: Field, seconds: number): boolean {
  if (seconds >= MINIMUM_LIFETIME_SECONDS) return true;
  const minimum = `the ${MINIMUM_LIFETIME_SECONDS / 60}-minute minimum`;
  if (ctx.daemon.allowShortLifetimes) {
    ctx.r.warning(field, `lifetime of ${seconds} seconds is below ${minimum} (allowed by daemon.allowShortLifetimes; for tests and demos)`);
    return true;
  }
  ctx.r.error(field, `lifetime of ${seconds} seconds is below ${minimum}; set daemon: { allowShortLifetimes: true } to allow it (tests and demos)`);
  return false;
}

function readLifetime(ctx: Context, entry: Entry | undefined, protocol: ProposalProtocol, defaultSeconds: number): Lifetime | undefined {
  if (entry === undefined) return lifetimeFromRekeySeconds(defaultSeconds);
  const { r } = ctx;
  let timeField: Field = entry;
  let kilobytes: number | undefined;
  let fine = true;
  if (entry.node !== null && !isScalar(entry.node)) {
    const keys = byKey(r, entry, readMap(r, entry, LIFETIME_KEYS, 'a duration or { time, kilobytes }'), ['time']);
    const time = keys.get('time');
    if (time === undefined) return undefined;
    timeField = time;
    const kb = keys.get('kilobytes');
    if (kb !== undefined) {
      if (protocol === 'ike') {
        r.at('error', kb.keyOffset, entry.path, 'kilobytes applies to data policies only: an IKE SA has no byte lifetime');
        fine = false;
      } else {
        kilobytes = readInteger(r, kb, 1, Math.floor(Number.MAX_SAFE_INTEGER / 1024), 'a number of kilobytes');
        if (kilobytes === undefined) fine = false;
      }
    }
  }
  const seconds = readDuration(ctx, timeField);
  if (seconds === undefined || !checkShortLifetime(ctx, timeField, seconds) || !fine) return undefined;
  return lifetimeFromRekeySeconds(seconds, kilobytes === undefined ? undefined : { rekeyBytes: kilobytes * 1024 });
}

// ---- proposals ----

interface Proposals {
  readonly strings: string[];
  readonly sets: AlgorithmSet[];
}

const KIND_NAME: Readonly<Record<ProposalProtocol, string>> = { ike: 'IKE', esp: 'ESP' };

function readProposals(ctx: Context, entry: Entry, protocol: ProposalProtocol): Proposals | undefined {
  const { r } = ctx;
  const items = isScalar(entry.node) ? [entry as Field] : readList(r, entry, 'a list of proposals');
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.error(entry, 'at least one proposal is required');
    return undefined;
  }
  const strings: string[] = [];
  const sets: AlgorithmSet[] = [];
  let fine = true;
  for (const item of items) {
    const text = readString(r, item, { what: 'a proposal string' });
    if (text === undefined) {
      fine = false;
      continue;
    }
    const parsed = parseProposalList(text, protocol);
    if (!parsed.ok) {
      fine = false;
      reportProposal(ctx, item, text, protocol, parsed.error);
      continue;
    }
    if (protocol === 'esp') {
      // strongSwan drops a PRF from ESP proposals silently; here it means an IKE proposal was
      // pasted into a data policy, which an operator wants to hear about.
      const prf = findPrfKeyword(text);
      if (prf !== undefined) {
        fine = false;
        r.at('error', offsetInString(item, ctx.source, prf.position), item.path,
          `${quoted(prf.word)} is a PRF, an IKE algorithm: ${quoted(text.trim())} looks like an IKE proposal; data policy proposals name encryption, integrity, an optional DH group (PFS) and esn/noesn`);
        continue;
      }
    }
    strings.push(...splitProposals(text, protocol));
    sets.push(...parsed.value);
  }
  return fine ? { strings, sets } : undefined;
}

function reportProposal(ctx: Context, item: Field, text: string, protocol: ProposalProtocol, e: ProposalSyntaxError): void {
  const other: ProposalProtocol = protocol === 'ike' ? 'esp' : 'ike';
  const offset = offsetInString(item, ctx.source, e.position);
  // A proposal of the other kind is the likely copy-and-paste slip. Only the signs that point one
  // way count: an ESP proposal in an IKE policy lacks a PRF or carries esn/noesn (an IKE proposal
  // without a DH group is more likely just incomplete); IKE in ESP is caught by its PRF elsewhere.
  const espSign = protocol === 'ike' && (e.reason.startsWith('a PRF is required') || e.reason.includes('applies to ESP only')) && findPrfKeyword(text) === undefined;
  const message = espSign && parseProposalList(text, other).ok
    ? `${quoted(text.trim())} is an ${KIND_NAME[other]} proposal, not an ${KIND_NAME[protocol]} one: ${e.reason}`
    : `${e.reason} in ${quoted(text.trim())}`;
  ctx.r.at('error', offset, item.path, message);
}

/** The proposals of one string as the model lists them: comma-separated parts, `default` expanded. */
function splitProposals(text: string, protocol: ProposalProtocol): string[] {
  // The same cut as parseProposalList: a trailing '!' (ipsec.conf's strict flag) is dropped.
  const trimmedEnd = text.trimEnd();
  const body = trimmedEnd.endsWith('!') ? trimmedEnd.slice(0, -1) : text;
  return body.split(',').flatMap((part) => (part.trim().toLowerCase() === 'default' ? [...DEFAULT_PROPOSALS[protocol]] : [part.trim()]));
}

function findPrfKeyword(text: string): { word: string; position: number } | undefined {
  const re = /[^,\-!]+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const word = m[0].trim();
    if (/^prf[a-z0-9_]+$/i.test(word)) return { word, position: m.index + (m[0].length - m[0].trimStart().length) };
  }
  return undefined;
}

// ---- policies ----

function readIkePolicy(ctx: Context, name: string, entry: Entry): IkePolicy | undefined {
  const { r } = ctx;
  const before = r.errorCount;
  const entries = readMap(r, entry, IKE_POLICY_KEYS);
  if (entries === undefined) return undefined;
  const keys = byKey(r, anchor(entry), entries, ['proposals']);

  const versionEntry = keys.get('version');
  if (versionEntry !== undefined) {
    const v = readScalar(r, versionEntry, 'an IKE version (2)');
    if (v === 1 || v === '1') r.error(versionEntry, 'IKEv1 is not supported yet; version must be 2');
    else if (v !== undefined && v !== 2 && v !== '2') r.error(versionEntry, `version must be 2; got ${describe(versionEntry.node)}`);
  }
  const authEntry = keys.get('auth');
  let auth: (typeof AUTH_WORDS)[string] = AUTH_WORDS.psk!;
  if (authEntry !== undefined) {
    const a = readString(r, authEntry, { what: 'an authentication method' });
    const found = a === undefined ? undefined : AUTH_WORDS[a];
    if (a !== undefined && found === undefined) r.error(authEntry, `auth ${quoted(a)} is not allowed; allowed: ${Object.keys(AUTH_WORDS).join(', ')}`);
    if (found !== undefined) auth = found;
  }
  const signatureEntry = keys.get('signature');
  const signature = signatureEntry === undefined ? undefined : readSignature(ctx, signatureEntry, auth);
  const proposalsEntry = keys.get('proposals');
  const proposals = proposalsEntry === undefined ? undefined : readProposals(ctx, proposalsEntry, 'ike');
  const lifetime = readLifetime(ctx, keys.get('lifetime'), 'ike', DEFAULT_IKE_LIFETIME_SECONDS);
  const dpdEntry = keys.get('dpd');
  const dpd = dpdEntry === undefined ? undefined : readDpd(ctx, dpdEntry);
  const retransmit = readRetransmit(ctx, keys.get('retransmit'));
  const fragmentation = readFragmentation(ctx, keys.get('fragmentation'));

  if (r.errorCount > before || proposals === undefined || lifetime === undefined) return undefined;
  return {
    name,
    version: 2,
    auth: auth.auth,
    ...(auth.auth === 'pubkey' ? { signature: { ...DEFAULT_SIGNATURE_POLICY, ...signature, ...(auth.keyType === undefined ? {} : { keyType: auth.keyType }) } } : {}),
    proposals: proposals.strings,
    proposalSets: proposals.sets,
    lifetime,
    ...(dpd === undefined ? {} : { dpd }),
    retransmit,
    fragmentation,
  };
}

/** `signature: { rsaPadding: pkcs1 | pss, digitalSignature: true | false }`, for auth: pubkey. */
function readSignature(ctx: Context, entry: Entry, auth: { readonly auth: AuthMode }): Partial<SignaturePolicy> | undefined {
  const { r } = ctx;
  if (auth.auth !== 'pubkey') {
    r.error(entry, 'signature applies to auth: pubkey (or rsa-signature, ecdsa-signature); this policy has auth: psk');
    return undefined;
  }
  const keys = byKey(r, entry, readMap(r, entry, SIGNATURE_KEYS, 'a mapping { rsaPadding, digitalSignature }'));
  const out: { rsaPadding?: SignaturePolicy['rsaPadding']; digitalSignature?: boolean } = {};
  const paddingEntry = keys.get('rsaPadding');
  if (paddingEntry !== undefined) {
    const p = readString(r, paddingEntry, { what: 'an RSA padding' });
    if (p === 'pkcs1' || p === 'pss') out.rsaPadding = p;
    else if (p !== undefined) r.error(paddingEntry, `rsaPadding ${quoted(p)} is not allowed; allowed: pkcs1, pss`);
  }
  const digital = optional(keys.get('digitalSignature'), (f) => readBoolean(r, f));
  if (digital !== undefined) out.digitalSignature = digital;
  return out;
}

function readDpd(ctx: Context, entry: Entry): DpdPolicy | undefined {
  const { r } = ctx;
  const keys = byKey(r, entry, readMap(r, entry, DPD_KEYS, 'a mapping { interval, timeout }'), ['interval']);
  const intervalEntry = keys.get('interval');
  const interval = intervalEntry === undefined ? undefined : readDuration(ctx, intervalEntry);
  const timeoutEntry = keys.get('timeout');
  const timeout = timeoutEntry === undefined ? undefined : readDuration(ctx, timeoutEntry);
  if (interval === undefined) return undefined;
  if (timeoutEntry !== undefined && timeout === undefined) return undefined;
  if (timeoutEntry !== undefined && timeout !== undefined && timeout < interval) {
    r.error(timeoutEntry, `dpd timeout (${timeout} seconds) must not be shorter than the interval (${interval} seconds)`);
    return undefined;
  }
  return { intervalSeconds: interval, timeoutSeconds: timeout ?? interval * DEFAULT_DPD_TIMEOUT_INTERVALS };
}

function readRetransmit(ctx: Context, entry: Entry | undefined): RetransmitPolicy {
  if (entry === undefined) return DEFAULT_RETRANSMIT;
  const { r } = ctx;
  const keys = byKey(r, entry, readMap(r, entry, RETRANSMIT_KEYS, 'a mapping { timeout, base, tries, limit }'));
  const initialMs = optional(keys.get('timeout'), (f) => readDurationMs(ctx, f)) ?? DEFAULT_RETRANSMIT.initialMs;
  const factor = optional(keys.get('base'), (f) => readNumber(r, f, 1, 10, 'a growth factor')) ?? DEFAULT_RETRANSMIT.factor;
  const tries = optional(keys.get('tries'), (f) => readInteger(r, f, 0, 100, 'a number of retransmissions')) ?? DEFAULT_RETRANSMIT.tries;
  const limitMs = optional(keys.get('limit'), (f) => readDurationMs(ctx, f));
  return { initialMs, factor, tries, ...(limitMs === undefined ? {} : { limitMs }) };
}

function readFragmentation(ctx: Context, entry: Entry | undefined): FragmentationPolicy {
  if (entry === undefined) return DEFAULT_FRAGMENTATION;
  const { r } = ctx;
  const keys = byKey(r, entry, readMap(r, entry, FRAGMENTATION_KEYS, 'a mapping { enabled, maxDatagramSize }'));
  const enabled = optional(keys.get('enabled'), (f) => readBoolean(r, f)) ?? DEFAULT_FRAGMENTATION.enabled;
  // 576 is the smallest datagram every IPv4 host accepts (RFC 7383 2.5.1 uses it as the IPv4 default).
  const maxDatagramSize =
    optional(keys.get('maxDatagramSize'), (f) => readInteger(r, f, 576, 65535, 'a datagram size in bytes')) ?? DEFAULT_FRAGMENTATION.maxDatagramSize;
  return { enabled, maxDatagramSize };
}

function readDataPolicy(ctx: Context, name: string, entry: Entry): DataPolicy | undefined {
  const { r } = ctx;
  const before = r.errorCount;
  const entries = readMap(r, entry, DATA_POLICY_KEYS);
  if (entries === undefined) return undefined;
  const keys = byKey(r, anchor(entry), entries, ['proposals']);
  const protocolEntry = keys.get('protocol');
  if (protocolEntry !== undefined) {
    const p = readString(r, protocolEntry, { what: 'a protocol' });
    if (p !== undefined && p !== 'esp') r.error(protocolEntry, `protocol ${quoted(p)} is not supported; allowed: esp`);
  }
  const mode =
    optional(keys.get('mode'), (f) => {
      const m = readString(r, f, { what: 'a mode' });
      if (m === undefined) return undefined;
      const found = MODES.find((x) => x === m);
      if (found === undefined) r.error(f, `mode ${quoted(m)} is not allowed; allowed: ${MODES.join(', ')}`);
      return found;
    }) ?? 'tunnel';
  const proposalsEntry = keys.get('proposals');
  const proposals = proposalsEntry === undefined ? undefined : readProposals(ctx, proposalsEntry, 'esp');
  const lifetime = readLifetime(ctx, keys.get('lifetime'), 'esp', DEFAULT_DATA_LIFETIME_SECONDS);
  if (r.errorCount > before || proposals === undefined || lifetime === undefined) return undefined;
  return { name, protocol: 'esp', mode, proposals: proposals.strings, proposalSets: proposals.sets, lifetime };
}

// ---- connections ----

interface References {
  readonly ike: ReadonlyMap<string, Named<IkePolicy>>;
  readonly data: ReadonlyMap<string, Named<DataPolicy>>;
  readonly used: Set<string>;
}

function readConnection(ctx: Context, name: string, entry: Entry, refs: References): ConnectionConfig | undefined {
  const { r } = ctx;
  const before = r.errorCount;
  const entries = readMap(r, entry, CONNECTION_KEYS);
  if (entries === undefined) return undefined;
  const keys = byKey(r, anchor(entry), entries, ['ikePolicy', 'dataPolicy', 'local', 'remote', 'traffic']);

  const ikePolicy = resolveReference(ctx, keys.get('ikePolicy'), refs.ike, 'ikePolicies', refs.used);
  const dataPolicy = resolveReference(ctx, keys.get('dataPolicy'), refs.data, 'dataPolicies', refs.used);
  const localEntry = keys.get('local');
  const draft = localEntry === undefined ? undefined : readLocal(ctx, localEntry);
  const remoteEntry = keys.get('remote');
  const remote = remoteEntry === undefined ? undefined : readRemote(ctx, remoteEntry);
  const credentials =
    draft === undefined || remote === undefined || ikePolicy === undefined || localEntry === undefined || remoteEntry === undefined
      ? undefined
      : readCredentials(ctx, ikePolicy, draft, localEntry, remote, remoteEntry, keys.get('crl'));
  const local = draft === undefined || credentials === undefined ? undefined : { ...draft, peer: credentials.local };

  if (local !== undefined && remote !== undefined && remote.address !== '%any' && remoteEntry !== undefined) {
    const lf = ipFamily(local.address);
    const rf = ipFamily(remote.address);
    if (lf !== rf) {
      r.at('error', remote.addressOffset, `${remoteEntry.path}.address`,
        `remote address ${remote.address} is IPv${rf} but local address ${local.address} is IPv${lf}`);
    }
  }

  const trafficEntry = keys.get('traffic');
  const traffic = trafficEntry === undefined ? undefined : readTraffic(ctx, trafficEntry);

  let start: StartAction = 'listen';
  const startEntry = keys.get('start');
  if (startEntry !== undefined) {
    const s = readString(r, startEntry, { what: 'a start action' });
    const found = START_ACTIONS.find((a) => a === s);
    if (s !== undefined && found === undefined) r.error(startEntry, `start ${quoted(s)} is not allowed; allowed: ${START_ACTIONS.join(', ')}`);
    if (found !== undefined) start = found;
  }
  if (remote?.address === '%any' && start !== 'listen') {
    r.error(startEntry ?? anchor(entry), `start ${quoted(start)} needs a remote address to initiate to; with address %any use start: listen`);
  }
  const initialContact = optional(keys.get('initialContact'), (f) => readBoolean(r, f));
  const dpdAction = readAction(ctx, keys.get('dpdAction'), 'dpdAction', DPD_ACTIONS, start, remote?.address);
  const closeAction = readAction(ctx, keys.get('closeAction'), 'closeAction', CLOSE_ACTIONS, start, remote?.address);

  if (r.errorCount > before || ikePolicy === undefined || dataPolicy === undefined || local === undefined || remote === undefined || traffic === undefined) {
    return undefined;
  }
  return {
    name,
    ikePolicy,
    dataPolicy,
    local: local.peer,
    remote: credentials?.remote ?? remote.peer,
    traffic,
    start,
    ...(initialContact === undefined ? {} : { initialContact }),
    ...(dpdAction === undefined ? {} : { dpdAction }),
    ...(closeAction === undefined ? {} : { closeAction }),
  };
}

/** `dpdAction` or `closeAction`: one of `allowed`; `trap` only where a trap is, a restart only towards an address. */
function readAction<A extends string>(ctx: Context, entry: Entry | undefined, key: string, allowed: readonly A[], start: StartAction, remoteAddress: string | undefined): A | undefined {
  if (entry === undefined) return undefined;
  const { r } = ctx;
  const text = readString(r, entry, { what: `a ${key}` });
  if (text === undefined) return undefined;
  const found = allowed.find((a) => a === text);
  if (found === undefined) {
    r.error(entry, `${key} '${text}' is not allowed; allowed: ${allowed.join(', ')}`);
    return undefined;
  }
  if (found === 'trap' && start !== 'on-demand') r.error(entry, `${key} 'trap' needs the trap of start: on-demand (this connection is start: ${start})`);
  if ((found === 'restart' || found === 'start') && remoteAddress === '%any') r.error(entry, `${key} '${found}' needs a remote address to initiate to; with address %any the peer must come back`);
  return found;
}

function resolveReference<T>(ctx: Context, entry: Entry | undefined, defined: ReadonlyMap<string, Named<T>>, section: string, used: Set<string>): T | undefined {
  if (entry === undefined) return undefined;
  const name = readString(ctx.r, entry, { what: 'a policy name' });
  if (name === undefined) return undefined;
  const found = defined.get(name);
  if (found === undefined) {
    const names = [...defined.keys()];
    ctx.r.error(entry, names.length === 0 ? `${quoted(name)} is not defined; no ${section} are defined` : `${quoted(name)} is not defined; defined: ${names.join(', ')}`);
    return undefined;
  }
  used.add(`${section}/${name}`);
  return found.value;
}

interface ReadPeer<P> {
  readonly peer: P;
  readonly address: string;
  readonly addressOffset: number;
}

function readAddress(ctx: Context, field: Field, allowAny: boolean): string | undefined {
  const a = readString(ctx.r, field, { what: 'an address' });
  if (a === undefined) return undefined;
  if (allowAny && a === '%any') return a;
  const canonical = canonicalIp(a.trim());
  if (canonical === undefined) ctx.r.error(field, `${quoted(a)} is not an IPv4 or IPv6 address${allowAny ? ' or %any' : ''}`);
  return canonical;
}

function readId(ctx: Context, field: Field): IdentityConfig | undefined {
  const text = readString(ctx.r, field, { what: 'an identity' });
  if (text === undefined) return undefined;
  if (text.trim() === '') {
    ctx.r.error(field, 'id must not be empty');
    return undefined;
  }
  const hex = text.startsWith('keyid:') ? text.slice('keyid:'.length) : text.startsWith('@#') ? text.slice(2) : undefined;
  if (hex !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    ctx.r.error(field, `id ${quoted(text)} is a key ID but ${quoted(hex)} is not an even number of hex digits`);
    return undefined;
  }
  if (text === '@') {
    ctx.r.error(field, "id '@' names nothing: write @ followed by a name");
    return undefined;
  }
  if (looksLikeDistinguishedName(text)) {
    const dn = parseDistinguishedName(text);
    if (!dn.ok) {
      ctx.r.error(field, `id ${quoted(text)} looks like a DN but ${dn.error}`);
      return undefined;
    }
  }
  const id = parseIdentityConfig(text);
  // The engine compares identities as text; the wire gives IPv6 in canonical form.
  if (id.kind === 'ipv4' || id.kind === 'ipv6') return { ...id, address: canonicalIp(id.address.trim()) ?? id.address };
  return id;
}

function readPort(ctx: Context, entry: Entry | undefined, fallback: number): number {
  return optional(entry, (f) => readInteger(ctx.r, f, 1, 65535, 'a port')) ?? fallback;
}

/** The local side as written, before the IKE policy's auth says which of psk and cert/key it needs. */
interface LocalDraft extends ReadPeer<Omit<LocalPeerConfig, 'id'>> {
  /** The id written; undefined for the default (the address, or a certificate's subject). */
  readonly id: IdentityConfig | undefined;
  readonly keys: ReadonlyMap<string, Entry>;
  readonly sendCert: 'always' | 'ifasked';
}

function readLocal(ctx: Context, entry: Entry): LocalDraft | undefined {
  const { r } = ctx;
  const entries = readMap(r, entry, LOCAL_KEYS);
  if (entries === undefined) return undefined;
  const keys = byKey(r, anchor(entry), entries, ['address']);
  const addressEntry = keys.get('address');
  const address = addressEntry === undefined ? undefined : readAddress(ctx, addressEntry, false);
  const port = readPort(ctx, keys.get('port'), ctx.daemon.ports.ike);
  const idEntry = keys.get('id');
  const id = idEntry === undefined ? undefined : readId(ctx, idEntry);
  const pskEntry = keys.get('psk');
  const psk = pskEntry === undefined ? undefined : readPsk(ctx, pskEntry);
  let sendCert: LocalDraft['sendCert'] = 'ifasked';
  const sendCertEntry = keys.get('sendCert');
  if (sendCertEntry !== undefined) {
    const v = readString(r, sendCertEntry, { what: 'always or ifasked' });
    if (v === 'always' || v === 'ifasked') sendCert = v;
    else if (v !== undefined) r.error(sendCertEntry, `sendCert ${quoted(v)} is not allowed; allowed: ifasked (strongSwan's default: when the peer sends a CERTREQ), always`);
  }
  if (address === undefined || addressEntry === undefined || (idEntry !== undefined && id === undefined) || (pskEntry !== undefined && psk === undefined)) return undefined;
  return { peer: { address, port, ...(psk === undefined ? {} : { psk }) }, address, addressOffset: offsetOf(addressEntry), id, keys, sendCert };
}

/** The credentials the IKE policy's auth needs, checked (certificate-credentials.ts), into the model's local and remote sides. */
function readCredentials(
  ctx: Context,
  policy: IkePolicy,
  local: LocalDraft,
  localEntry: Entry,
  remote: ReadPeer<RemotePeerConfig> & { readonly keys: ReadonlyMap<string, Entry> },
  remoteEntry: Entry,
  crlEntry: Entry | undefined,
): { local: LocalPeerConfig; remote: RemotePeerConfig } | undefined {
  const { r } = ctx;
  const caEntry = remote.keys.get('ca');
  if (policy.auth === 'psk') {
    const misplaced = [...PUBKEY_LOCAL_KEYS.map((k) => local.keys.get(k)), caEntry, crlEntry].filter((e): e is Entry => e !== undefined);
    for (const e of misplaced) r.error(e, `${e.path.split('.').pop()} is for auth: pubkey; IKE policy ${policy.name} has auth: psk`);
    if (local.peer.psk === undefined) {
      if (local.keys.get('psk') === undefined) r.error(anchor(localEntry), `missing key 'psk': IKE policy ${policy.name} has auth: psk`);
      return undefined;
    }
    if (misplaced.length > 0) return undefined;
    return { local: { ...local.peer, id: local.id ?? parseIdentityConfig(local.address) }, remote: remote.peer };
  }
  const pskEntry = local.keys.get('psk');
  if (pskEntry !== undefined) r.error(pskEntry, `psk is for auth: psk; IKE policy ${policy.name} has auth: ${policy.signature?.keyType === undefined ? 'pubkey' : `${policy.signature.keyType}-signature`}`);
  if (caEntry === undefined) r.error(anchor(remoteEntry), "ca is required with auth: pubkey: the CA certificate file(s) that the peer's certificate chains to");
  const fileOf = (key: string, what: string, maxBytes: number): CredentialFile | 'pending' | undefined => {
    const e = local.keys.get(key);
    return e === undefined ? undefined : readCredentialFile(ctx, e, what, maxBytes);
  };
  const cert = fileOf('cert', 'certificate file', CERTIFICATE_FILE_MAX_BYTES);
  const key = fileOf('key', 'private key file', KEY_FILE_MAX_BYTES);
  const pkcs12 = fileOf('pkcs12', 'PKCS#12 file', CERTIFICATE_FILE_MAX_BYTES);
  const passphrase = fileOf('passphrase', 'passphrase file', PSK_FILE_MAX_BYTES);
  const cas = caEntry === undefined ? [] : readCredentialFiles(ctx, caEntry, 'CA certificate file', CERTIFICATE_FILE_MAX_BYTES);
  const crls = crlEntry === undefined ? [] : readCredentialFiles(ctx, crlEntry, 'CRL file', CRL_FILE_MAX_BYTES);
  if (pkcs12 !== undefined && (local.keys.has('cert') || local.keys.has('key'))) {
    r.error(local.keys.get('pkcs12')!, 'pkcs12 holds the certificate and the key: write either pkcs12 or cert and key');
    return undefined;
  }
  if (pskEntry !== undefined || caEntry === undefined) return undefined;
  const localFiles = [cert, key, pkcs12, passphrase];
  const written = ['cert', 'key', 'pkcs12', 'passphrase'].map((k) => local.keys.has(k));
  // A file that could not be read is reported already; the first walk only collects the paths.
  if (localFiles.some((f, i) => written[i] === true && f === undefined) || cas.includes(undefined) || crls.includes(undefined)) return undefined;
  if ([...localFiles, ...cas, ...crls].includes('pending')) return undefined;
  const file = (f: CredentialFile | 'pending' | undefined): CredentialFile | undefined => (f === 'pending' ? undefined : f);
  const atMs = ctx.options.nowMs ?? Date.now();
  const trust = peerTrust({ cas: cas.map(file) as CredentialFile[], crls: crls.map(file) as CredentialFile[], atMs });
  if (!trust.ok) {
    for (const p of trust.error) {
      const listEntry = p.list === 'ca' ? caEntry : crlEntry!;
      r.error(itemOf(listEntry, p.index), p.message);
    }
  }
  const own = localCredential({ cert: file(cert), key: file(key), pkcs12: file(pkcs12), passphrase: file(passphrase), id: local.id, sendCert: local.sendCert, atMs });
  if (!own.ok) {
    const at: Record<CredentialField, Entry | undefined> = {
      cert: local.keys.get('cert'),
      key: local.keys.get('key'),
      pkcs12: local.keys.get('pkcs12'),
      passphrase: local.keys.get('passphrase'),
      id: local.keys.get('id'),
    };
    r.error(at[own.error.field] ?? anchor(localEntry), own.error.message);
    return undefined;
  }
  if (!trust.ok) return undefined;
  const chainProblem = localChainProblem(own.value.chain, trust.value, atMs);
  if (chainProblem !== undefined) {
    const where = local.keys.get('cert') ?? local.keys.get('pkcs12') ?? anchor(localEntry);
    if (chainProblem.severity === 'error') {
      r.error(where, chainProblem.message);
      return undefined;
    }
    r.warning(where, chainProblem.message);
  }
  return {
    local: { ...local.peer, id: own.value.id, certificate: own.value.certificate, privateKey: own.value.privateKey },
    remote: { ...remote.peer, trust: trust.value.trust },
  };
}

/** One item of a scalar-or-list entry, for its position. */
function itemOf(entry: Entry, index: number): Field {
  if (isScalar(entry.node) || entry.node === null) return entry;
  const items = (entry.node as { items?: Node[] }).items;
  const node = items?.[index];
  return node === undefined ? entry : { node, path: `${entry.path}[${index}]`, offset: node.range?.[0] ?? entry.offset };
}

/** A file named by a key (a path, relative to the configuration's directory): its content, 'pending' before it is read, undefined on an error reported. */
function readCredentialFile(ctx: Context, field: Field, what: string, maxBytes: number): CredentialFile | 'pending' | undefined {
  const { r } = ctx;
  const written = readString(r, field, { what: `a ${what} path` });
  if (written === undefined) return undefined;
  if (written.trim() === '') {
    r.error(field, `${what} needs a path`);
    return undefined;
  }
  const path = resolve(dirname(ctx.file), written);
  const content = ctx.secrets(path, maxBytes);
  if (content === undefined) return 'pending';
  if (!content.ok) {
    r.error(field, `cannot read ${what} ${quoted(path, MAX_QUOTED_PATH_CHARS)}: ${content.error}`);
    return undefined;
  }
  // A copy: the loader zeroes what it read once the walk is done.
  return { path, bytes: Buffer.from(content.value.bytes), ...(content.value.mode === undefined ? {} : { mode: content.value.mode }) };
}

/** `KEY: FILE` or `KEY: [FILE, …]`. */
function readCredentialFiles(ctx: Context, entry: Entry, what: string, maxBytes: number): Array<CredentialFile | 'pending' | undefined> {
  const items = isScalar(entry.node) ? [entry as Field] : readList(ctx.r, entry, `a ${what} path or a list of them`);
  if (items === undefined) return [undefined];
  if (items.length === 0) {
    ctx.r.error(entry, `at least one ${what} is required`);
    return [undefined];
  }
  return items.map((item) => readCredentialFile(ctx, item, what, maxBytes));
}

function readRemote(ctx: Context, entry: Entry): (ReadPeer<RemotePeerConfig> & { readonly keys: ReadonlyMap<string, Entry> }) | undefined {
  const { r } = ctx;
  const entries = readMap(r, entry, REMOTE_KEYS);
  if (entries === undefined) return undefined;
  const keys = byKey(r, anchor(entry), entries, ['address']);
  const addressEntry = keys.get('address');
  const address = addressEntry === undefined ? undefined : readAddress(ctx, addressEntry, true);
  const port = readPort(ctx, keys.get('port'), 500);
  const idEntry = keys.get('id');
  let id: IdentityConfig | undefined;
  if (idEntry !== undefined) id = readId(ctx, idEntry);
  else if (address === '%any') r.error(anchor(entry), 'remote id is required when the address is %any');
  else if (address !== undefined) id = parseIdentityConfig(address);
  if (address === undefined || id === undefined || addressEntry === undefined) return undefined;
  return { peer: { address, port, id }, address, addressOffset: offsetOf(addressEntry), keys };
}

function readPsk(ctx: Context, entry: Entry): SecretBytes | undefined {
  const { r } = ctx;
  if (entry.node !== null && isScalar(entry.node) && typeof entry.node.value === 'string') {
    const key = pskFromText(entry.node.value);
    if (!key.ok) {
      r.error(entry, key.error);
      return undefined;
    }
    const mode = ctx.options.fileMode;
    if (readableByOthers(mode)) {
      r.warning(entry, `psk is written inline and ${ctx.file} can be read by group or others (mode ${modeText(mode)}); chmod 600 the file or use psk: { file: PATH }`);
    }
    return secretOnce(key.value);
  }
  if (entry.node === null || isScalar(entry.node)) {
    r.error(entry, `expected a string or { file: PATH }; got ${describe(entry.node, true)}`);
    return undefined;
  }
  const keys = byKey(r, entry, readMap(r, entry, PSK_FILE_KEYS, 'a string or { file: PATH }'), ['file']);
  const fileEntry = keys.get('file');
  if (fileEntry === undefined) return undefined;
  const written = readString(r, fileEntry, { what: 'a file path' });
  if (written === undefined) return undefined;
  if (written.trim() === '') {
    r.error(fileEntry, 'psk file needs a path');
    return undefined;
  }
  const path = resolve(dirname(ctx.file), written);
  const shown = quoted(path, MAX_QUOTED_PATH_CHARS);
  const content = ctx.secrets(path);
  // Not read yet: loadConfigFile reads it and walks again.
  if (content === undefined) return undefined;
  if (!content.ok) {
    r.error(fileEntry, `cannot read psk file ${shown}: ${content.error}`);
    return undefined;
  }
  const key = pskFromFile(content.value.bytes);
  if (!key.ok) {
    r.error(fileEntry, `in ${shown}: ${key.error}`);
    return undefined;
  }
  // As ssh says of private keys, and as this loader says of a configuration with an inline PSK.
  if (readableByOthers(content.value.mode)) {
    r.warning(fileEntry, `psk file ${shown} can be read by group or others (mode ${modeText(content.value.mode)}); chmod 600 it`);
  }
  return secretOnce(key.value);
}

function readableByOthers(mode: number | undefined): mode is number {
  return mode !== undefined && (mode & 0o044) !== 0;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The key wrapped for the model (which copies it); the decoded buffer is zeroed, not left behind. */
function secretOnce(bytes: Buffer): SecretBytes {
  const secret = secretBytes(bytes);
  bytes.fill(0);
  return secret;
}

function readTraffic(ctx: Context, entry: Entry): ConnectionConfig['traffic'] | undefined {
  const { r } = ctx;
  const entries = readMap(r, entry, TRAFFIC_KEYS, 'a mapping { local, remote }');
  if (entries === undefined) return undefined;
  const keys = byKey(r, anchor(entry), entries, ['local', 'remote']);
  const side = (e: Entry | undefined): string[] | undefined => {
    if (e === undefined) return undefined;
    const items = isScalar(e.node) ? [e as Field] : readList(r, e, 'a list of subnets');
    if (items === undefined) return undefined;
    if (items.length === 0) {
      r.error(e, 'at least one subnet is required');
      return undefined;
    }
    const out: string[] = [];
    let fine = true;
    for (const item of items) {
      const text = readString(r, item, { what: 'a subnet (CIDR, address or range)' });
      if (text === undefined) {
        fine = false;
        continue;
      }
      const parsed = selectorFromCidr(text);
      if (!parsed.ok) {
        fine = false;
        r.error(item, `${quoted(text)} is not a traffic selector: ${parsed.error}`);
        continue;
      }
      out.push(text.trim());
    }
    return fine ? out : undefined;
  };
  const local = side(keys.get('local'));
  const remote = side(keys.get('remote'));
  return local === undefined || remote === undefined ? undefined : { local, remote };
}

// ---- helpers ----

function ipFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}
