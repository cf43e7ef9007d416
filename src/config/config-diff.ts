/**
 * What a reload changes, by connection name: the daemon starts the added connections, tears down
 * the removed ones, restarts the changed ones and leaves the unchanged ones alone (their SAs are
 * not disturbed).
 *
 * "Changed" means anything that affects how the connection negotiates or what it protects: its
 * policies' content, addresses and ports, IDs, the PSK (compared by bytes), traffic, start action,
 * initialContact. The comparison is semantic, not by object identity or spelling:
 * - the policies' names do not count (renaming a policy changes no SA), their content does;
 * - proposals are compared as parsed algorithm sets, not as strings ('aes128-sha256-modp2048'
 *   and 'aes128-sha256-prfsha256-modp2048' are the same proposal);
 * - traffic selectors as address ranges ('10.1.2.3/16' is 10.1.0.0/16);
 * - secrets through a SHA-256 of their bytes, so no key ends up in the comparison strings.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { selectorFromCidr } from '../policy/traffic-selectors.js';
import type { ConnectionConfig, EngineConfig } from './model.js';

export interface ConfigDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
  /** EngineSettings differ (e.g. the NAT-T port): not something a per-connection reload covers. */
  readonly settingsChanged: boolean;
}

export function diffConfigs(previous: EngineConfig, next: EngineConfig): ConfigDiff {
  const before = new Map(previous.connections.map((c) => [c.name, c]));
  const after = new Map(next.connections.map((c) => [c.name, c]));
  const added: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const [name, c] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(name);
    else if (connectionFingerprint(old) === connectionFingerprint(c)) unchanged.push(name);
    else changed.push(name);
  }
  const removed = [...before.keys()].filter((name) => !after.has(name));
  return { added, removed, changed, unchanged, settingsChanged: canonicalJson(previous.settings) !== canonicalJson(next.settings) };
}

/** Everything about a connection that matters, as one comparable string. */
export function connectionFingerprint(c: ConnectionConfig): string {
  const { name: _ike, proposals: _ikeText, ...ikePolicy } = c.ikePolicy;
  const { name: _data, proposals: _dataText, ...dataPolicy } = c.dataPolicy;
  const traffic = (cidrs: readonly string[]) =>
    cidrs.map((cidr) => {
      const s = selectorFromCidr(cidr);
      return s.ok ? s.value : cidr;
    });
  return canonicalJson({
    ...c,
    name: undefined,
    // The PSK's octets and the private key sit behind getters (model.ts keeps them out of every
    // enumeration); a key stands for itself by its public half.
    local: {
      ...c.local,
      psk: c.local.psk?.bytes,
      privateKey: c.local.privateKey === undefined ? undefined : createPublicKey(c.local.privateKey.key).export({ type: 'spki', format: 'der' }),
    },
    // A new CRL applies to the next negotiation, not to SAs up now: CRLs are refreshed often
    // (daily, as strongSwan's `swanctl --load-creds`), and each refresh would restart the tunnels.
    remote: c.remote.trust === undefined ? c.remote : { ...c.remote, trust: { ...c.remote.trust, crls: undefined } },
    ikePolicy,
    dataPolicy,
    traffic: { local: traffic(c.traffic.local), remote: traffic(c.traffic.remote) },
  });
}

/** JSON with sorted keys, undefined members left out, byte strings as a SHA-256. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return { sha256: createHash('sha256').update(value).digest('hex') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}
