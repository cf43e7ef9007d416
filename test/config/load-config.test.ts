/**
 * What a valid configuration becomes: the full example into the engine's model (proposal
 * sets, lifetimes, bytes, identities, the PSK from its file), defaults, and the accepted forms.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DAEMON_SETTINGS } from '../../src/config/daemon-settings.js';
import { ConfigError, formatDiagnostic } from '../../src/config/config-diagnostic.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import {
  CHILD_SA_DEFAULT_REKEY_S,
  DEFAULT_ENGINE_SETTINGS,
  DEFAULT_FRAGMENTATION,
  DEFAULT_RETRANSMIT,
  IKE_SA_DEFAULT_REKEY_S,
  MINIMUM_LIFETIME_SECONDS,
  lifetimeFromRekeySeconds,
} from '../../src/config/model.js';
import { DEFAULT_PROPOSALS, parseProposal } from '../../src/policy/proposal-syntax.js';
import { BASE, edit, EXAMPLE_FILES, FULL_EXAMPLE, loaded, report, TEST_PSK } from './support.js';

const sets = (protocol: 'ike' | 'esp', ...texts: string[]) =>
  texts.map((t) => {
    const r = parseProposal(t, protocol);
    if (!r.ok) throw r.error;
    return r.value;
  });

describe('the full example', () => {
  const config = loaded(FULL_EXAMPLE, { readFile: EXAMPLE_FILES, fileMode: 0o100600 });
  const c = config.engine.connections[0]!;

  it('has one connection, no warnings, and the daemon settings as written', () => {
    expect(config.engine.connections).toHaveLength(1);
    expect(config.warnings).toEqual([]);
    expect(config.daemon).toEqual({
      listen: ['0.0.0.0', '::'],
      ports: { ike: 500, natt: 4500 },
      control: '/run/ikekm/ikekm.sock',
      kernel: 'memory',
      allowShortLifetimes: false,
      natKeepaliveSeconds: 20,
      heapGrowthPercent: 25,
    });
    expect(config.engine.settings).toEqual({ ...DEFAULT_ENGINE_SETTINGS, nattPort: 4500 });
  });

  it('the IKE policy: proposals parsed, 24h lifetime through lifetimeFromRekeySeconds, DPD', () => {
    expect(c.ikePolicy).toEqual({
      name: 'hq-ike',
      version: 2,
      auth: 'psk',
      proposals: ['aes256gcm16-prfsha384-ecp384', 'aes128-sha256-modp2048'],
      proposalSets: sets('ike', 'aes256gcm16-prfsha384-ecp384', 'aes128-sha256-modp2048'),
      lifetime: lifetimeFromRekeySeconds(86400),
      dpd: { intervalSeconds: 30, timeoutSeconds: 150 },
      retransmit: DEFAULT_RETRANSMIT,
      fragmentation: DEFAULT_FRAGMENTATION,
    });
    expect(c.ikePolicy.lifetime).toEqual({ rekeySeconds: 86400, lifetimeSeconds: 95040, jitterSeconds: 8640 });
  });

  it('the data policy: 60m and 1 000 000 kilobytes of 1024 bytes', () => {
    expect(c.dataPolicy).toEqual({
      name: 'hq-data',
      protocol: 'esp',
      mode: 'tunnel',
      proposals: ['aes128gcm16-ecp256'],
      proposalSets: sets('esp', 'aes128gcm16-ecp256'),
      lifetime: lifetimeFromRekeySeconds(3600, { rekeyBytes: 1_024_000_000 }),
    });
    expect(c.dataPolicy.lifetime.rekeyBytes).toBe(1_000_000 * 1024);
    expect(c.dataPolicy.lifetime.lifetimeBytes).toBe(1_126_400_000);
  });

  it('peers, identities, the PSK from its file (trailing newline dropped), traffic, start', () => {
    expect(c.name).toBe('to-hq');
    expect(c.local.address).toBe('192.0.2.1');
    expect(c.local.port).toBe(500);
    expect(c.local.id).toEqual({ kind: 'ipv4', address: '192.0.2.1' });
    expect(c.local.psk!.bytes.equals(Buffer.from(TEST_PSK))).toBe(true);
    expect(c.remote).toEqual({ address: '192.0.2.2', port: 500, id: { kind: 'fqdn', fqdn: 'hq.example.net' } });
    expect(c.traffic).toEqual({ local: ['198.51.100.0/24'], remote: ['203.0.113.0/24'] });
    expect(c.start).toBe('on-load');
    expect(c.initialContact).toBeUndefined();
  });

  it('never shows the PSK when the loaded config is serialised', () => {
    expect(JSON.stringify(config)).not.toContain(TEST_PSK);
    expect(JSON.stringify(config)).toContain('[redacted]');
  });
});

describe('from a real file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the secret file relative to the configuration and stats the mode', async () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'to-hq.psk'), `${TEST_PSK}\n`, { mode: 0o600 });
    const file = join(dir, 'ikekm.yaml');
    writeFileSync(file, FULL_EXAMPLE.replace('/etc/ikekm/secrets/to-hq.psk', 'secrets/to-hq.psk'), { mode: 0o600 });
    const r = await loadConfigFile(file);
    expect(r.ok && r.value.engine.connections[0]?.local.psk!.bytes.toString()).toBe(TEST_PSK);
    expect(r.ok && r.value.file).toBe(file);

    const inline = join(dir, 'inline.yaml');
    writeFileSync(inline, edit(BASE, 13, `    local: { address: 192.0.2.1, psk: "${TEST_PSK}" }`));
    chmodSync(inline, 0o644);
    const w = await loadConfigFile(inline);
    expect(w.ok && w.value.warnings.map(formatDiagnostic)).toEqual([
      `${inline}:13:39: warning: to-hq.local.psk: psk is written inline and ${inline} can be read by group or others (mode 0644); chmod 600 the file or use psk: { file: PATH }`,
    ]);
  });

  it('a file cut inside a UTF-8 character (a half-written file) is refused as not UTF-8 text', async () => {
    const cut = join(dir, 'cut.yaml');
    const bytes = Buffer.from(`${BASE}# café\n`);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 2), { mode: 0o600 });
    const r = await loadConfigFile(cut);
    expect(!r.ok && r.error.map(formatDiagnostic)).toEqual([`${cut}:1:1: error: the configuration is not UTF-8 text`]);
  });

  it('a missing configuration file is a diagnostic, not an exception', async () => {
    const missing = join(dir, 'nope.yaml');
    const r = await loadConfigFile(missing);
    expect(!r.ok && r.error.map(formatDiagnostic)).toEqual([`${missing}:1:1: error: cannot read the configuration: ENOENT: no such file or directory`]);
  });
});

describe('defaults and accepted forms', () => {
  it("lifetime defaults are IBM i's: IKE SA rekey 24 h, Child SA 60 min, nothing under 5 min without allowShortLifetimes", () => {
    expect(IKE_SA_DEFAULT_REKEY_S).toBe(86_400);
    expect(CHILD_SA_DEFAULT_REKEY_S).toBe(3_600);
    expect(MINIMUM_LIFETIME_SECONDS).toBe(300);
  });

  it('defaults: daemon settings, IKE 24h and data 1h lifetimes, start listen, local port from daemon.ports.ike, IDs from addresses', () => {
    const text = [
      'daemon: { ports: { ike: 5500, natt: 5501 } }',
      'ikePolicies: { i: { proposals: [aes128-sha256-modp2048] } }',
      'dataPolicies: { d: { proposals: [aes128-sha256] } }',
      'connections:',
      '  c:',
      '    ikePolicy: i',
      '    dataPolicy: d',
      `    local: { address: 192.0.2.1, psk: "${TEST_PSK}" }`,
      '    remote: { address: 192.0.2.2 }',
      '    traffic: { local: 10.1.0.0/16, remote: [10.2.0.0/16] }',
    ].join('\n');
    const config = loaded(text);
    const c = config.engine.connections[0]!;
    expect(config.daemon).toEqual({ ...DEFAULT_DAEMON_SETTINGS, ports: { ike: 5500, natt: 5501 } });
    expect(config.engine.settings.nattPort).toBe(5501);
    expect(c.ikePolicy.lifetime).toEqual(lifetimeFromRekeySeconds(24 * 3600)); // the defaults: phase 1 about once a day, phase 2 every 60 minutes
    expect(c.ikePolicy.lifetime.rekeySeconds).toBe(86_400);
    expect(c.ikePolicy.dpd).toBeUndefined();
    expect(c.dataPolicy.lifetime).toEqual(lifetimeFromRekeySeconds(3600));
    expect(c.dataPolicy.mode).toBe('tunnel');
    expect(c.start).toBe('listen');
    expect(c.local.port).toBe(5500);
    expect(c.remote.port).toBe(500);
    expect(c.local.id).toEqual({ kind: 'ipv4', address: '192.0.2.1' });
    expect(c.remote.id).toEqual({ kind: 'ipv4', address: '192.0.2.2' });
    expect(c.traffic.local).toEqual(['10.1.0.0/16']);
  });

  it('durations: 30s, 5m, 60m, 24h, 1d and plain seconds', () => {
    for (const [written, seconds] of [['30s', 30], ['5m', 300], ['60m', 3600], ['24h', 86400], ['1d', 86400], ['900', 900], ["'900'", 900]] as const) {
      const text = `daemon: { allowShortLifetimes: true }\n${edit(BASE, 8, `    lifetime: ${written}`)}`;
      expect(loaded(text).engine.connections[0]!.dataPolicy.lifetime.rekeySeconds).toBe(seconds);
    }
  });

  it('retransmit, fragmentation, DPD with its default timeout', () => {
    const text = edit(BASE, 4, '    lifetime: 24h\n    dpd: { interval: 10s }\n    retransmit: { timeout: 500ms, base: 2, tries: 3, limit: 1m }\n    fragmentation: { enabled: false, maxDatagramSize: 1400 }');
    const p = loaded(text).engine.connections[0]!.ikePolicy;
    expect(p.retransmit).toEqual({ initialMs: 500, factor: 2, tries: 3, limitMs: 60_000 });
    expect(p.fragmentation).toEqual({ enabled: false, maxDatagramSize: 1400 });
    expect(p.dpd).toEqual({ intervalSeconds: 10, timeoutSeconds: 50 });
    const fractional = loaded(edit(BASE, 4, '    lifetime: 24h\n    retransmit: { timeout: 0.25 }')).engine.connections[0]!.ikePolicy;
    expect(fractional.retransmit).toEqual({ ...DEFAULT_RETRANSMIT, initialMs: 250 });
  });

  it('proposals as a swanctl comma list, with default expanded and a trailing !', () => {
    const text = edit(edit(BASE, 7, "    proposals: 'aes128gcm16-ecp256, default!'"), 3, '    proposals: [aes256gcm16-prfsha384-ecp384]');
    const d = loaded(text).engine.connections[0]!.dataPolicy;
    expect(d.proposals).toEqual(['aes128gcm16-ecp256', ...DEFAULT_PROPOSALS.esp]);
    expect(d.proposalSets).toEqual(sets('esp', 'aes128gcm16-ecp256', ...DEFAULT_PROPOSALS.esp));
  });

  it('a responder for any peer: remote %any with an id and start: listen; IPv6 in canonical form', () => {
    const text = [
      'ikePolicies: { i: { proposals: [aes128-sha256-modp2048] } }',
      'dataPolicies: { d: { proposals: [aes128-sha256] } }',
      'connections:',
      '  roadwarriors:',
      '    ikePolicy: i',
      '    dataPolicy: d',
      `    local: { address: "2001:DB8:0:0::1", port: 4501, id: "@gw.example.net", psk: "${TEST_PSK}" }`,
      '    remote: { address: "%any", id: "2001:db8:0::2" }',
      '    traffic: { local: ["2001:db8:1::/48"], remote: ["2001:db8:2::/48"] }',
      '    start: listen',
      '    initialContact: false',
    ].join('\n');
    const c = loaded(text).engine.connections[0]!;
    expect(c.local.address).toBe('2001:db8::1');
    expect(c.local.port).toBe(4501);
    expect(c.local.id).toEqual({ kind: 'fqdn', fqdn: 'gw.example.net' });
    expect(c.remote).toEqual({ address: '%any', port: 500, id: { kind: 'ipv6', address: '2001:db8::2' } });
    expect(c.initialContact).toBe(false);
  });

  it('identities as strongSwan writes them', () => {
    const idOf = (id: string) => loaded(edit(BASE, 14, `    remote: { address: 192.0.2.2, id: "${id}" }`)).engine.connections[0]!.remote.id;
    expect(idOf('user@example.net')).toEqual({ kind: 'rfc822', rfc822: 'user@example.net' });
    expect(idOf('@hq')).toEqual({ kind: 'fqdn', fqdn: 'hq' });
    expect(idOf('keyid:0a0b')).toEqual({ kind: 'key-id', keyId: Buffer.from([10, 11]) });
    expect(idOf('@#c0ffee')).toEqual({ kind: 'key-id', keyId: Buffer.from('c0ffee', 'hex') });
  });

  it('an empty file and empty sections load as a daemon without connections', () => {
    expect(loaded('').engine.connections).toEqual([]);
    expect(loaded('daemon:\nikePolicies:\ndataPolicies:\nconnections:\n').engine.connections).toEqual([]);
    expect(report('connections:\n')).toEqual([
      'ikekm.yaml:1:1: warning: connections: no connections are defined; the daemon will start and wait (a reload with this file is refused unless it says connections: {})',
    ]);
  });
});

describe('ConfigError', () => {
  it('carries the diagnostics and formats them in its message', async () => {
    const r = await loadConfigFile('/nonexistent/ikekm.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const e = new ConfigError(r.error);
    expect(e.diagnostics).toBe(r.error);
    expect(e.message).toBe('configuration has 1 error\n/nonexistent/ikekm.yaml:1:1: error: cannot read the configuration: ENOENT: no such file or directory');
  });
});
