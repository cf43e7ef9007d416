/**
 * Every validation rule of the configuration, each with the exact line check-config prints
 * (file, line, column, path, message). BASE (support.ts) is valid; each test changes a line.
 */
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/config-diagnostic.js';
import { parseConfig } from '../../src/config/load-config.js';
import { BASE, edit, fakeFiles, load, report, TEST_PSK } from './support.js';

const INLINE_PSK = `    local: { address: 192.0.2.1, psk: "${TEST_PSK}" }`;

describe('the base configuration', () => {
  it('is valid and silent', () => {
    expect(report(BASE)).toEqual([]);
  });
});

describe('references', () => {
  it('an undefined data policy names the defined ones', () => {
    expect(report(edit(BASE, 12, '    dataPolicy: hq-dat'))).toEqual([
      'ikekm.yaml:6:3: warning: dataPolicies.hq-data: not used by any connection',
      "ikekm.yaml:12:17: error: to-hq.dataPolicy: 'hq-dat' is not defined; defined: hq-data",
    ]);
  });

  it('an undefined IKE policy, and the diagnostic carries the full path', () => {
    const r = load(edit(BASE, 11, '    ikePolicy: hq'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.find((d) => d.severity === 'error')).toEqual({
      severity: 'error',
      file: 'ikekm.yaml',
      line: 11,
      column: 16,
      path: 'connections.to-hq.ikePolicy',
      message: "'hq' is not defined; defined: hq-ike",
    });
  });

  it('says when a section defines nothing', () => {
    const text = [
      'connections:',
      '  a:',
      '    ikePolicy: x',
      '    dataPolicy: y',
      INLINE_PSK,
      '    remote: { address: 192.0.2.2 }',
      '    traffic: { local: [10.1.0.0/16], remote: [10.2.0.0/16] }',
    ].join('\n');
    expect(report(text)).toEqual([
      "ikekm.yaml:3:16: error: a.ikePolicy: 'x' is not defined; no ikePolicies are defined",
      "ikekm.yaml:4:17: error: a.dataPolicy: 'y' is not defined; no dataPolicies are defined",
    ]);
  });

  it('warns about a policy no connection uses', () => {
    const text = edit(BASE, 4, '  spare-ike:\n    proposals: [aes128-sha256-modp2048]', true);
    expect(report(text)).toEqual(['ikekm.yaml:5:3: warning: ikePolicies.spare-ike: not used by any connection']);
  });
});

describe('proposals', () => {
  it('a syntax error points at the keyword inside the YAML string', () => {
    expect(report(edit(BASE, 3, '    proposals: [aes256gcm16-prfsha384-ecp384, "aes129-sha256-modp2048"]'))).toEqual([
      "ikekm.yaml:3:48: error: ikePolicies.hq-ike.proposals[1]: unknown algorithm 'aes129' in 'aes129-sha256-modp2048'",
    ]);
  });

  it('in a plain scalar, at the offending keyword', () => {
    expect(report(edit(BASE, 3, '    proposals: [aes256gcm16-prfsha384-ecp385]'))).toEqual([
      "ikekm.yaml:3:39: error: ikePolicies.hq-ike.proposals[0]: unknown algorithm 'ecp385' in 'aes256gcm16-prfsha384-ecp385'",
    ]);
  });

  it('in a swanctl-style comma list, at the keyword of the second proposal', () => {
    expect(report(edit(BASE, 3, "    proposals: 'aes256gcm16-prfsha384-ecp384, aes128-sha256-x'"))).toEqual([
      "ikekm.yaml:3:61: error: ikePolicies.hq-ike.proposals: unknown algorithm 'x' in 'aes256gcm16-prfsha384-ecp384, aes128-sha256-x'",
    ]);
  });

  it('a rule about the whole proposal points after its last keyword', () => {
    expect(report(edit(BASE, 3, '    proposals: [aes256-sha256]'))).toEqual([
      "ikekm.yaml:3:30: error: ikePolicies.hq-ike.proposals[0]: a DH group is required in IKE proposals in 'aes256-sha256'",
    ]);
  });

  it('an ESP proposal in an IKE policy', () => {
    expect(report(edit(BASE, 3, '    proposals: [aes128gcm16-ecp256]'))).toEqual([
      "ikekm.yaml:3:35: error: ikePolicies.hq-ike.proposals[0]: 'aes128gcm16-ecp256' is an ESP proposal, not an IKE one: a PRF is required in IKE proposals: add one (e.g. prfsha256) or, with classic encryption, an integrity algorithm that implies it",
    ]);
  });

  it('an IKE proposal in a data policy (its PRF gives it away)', () => {
    expect(report(edit(BASE, 7, '    proposals: [aes256gcm16-prfsha384-ecp384]'))).toEqual([
      "ikekm.yaml:7:29: error: dataPolicies.hq-data.proposals[0]: 'prfsha384' is a PRF, an IKE algorithm: 'aes256gcm16-prfsha384-ecp384' looks like an IKE proposal; data policy proposals name encryption, integrity, an optional DH group (PFS) and esn/noesn",
    ]);
  });

  it('esn in an ESP proposal pasted into an IKE policy', () => {
    expect(report(edit(BASE, 3, '    proposals: [aes128gcm16-ecp256-esn]'))).toEqual([
      "ikekm.yaml:3:36: error: ikePolicies.hq-ike.proposals[0]: 'aes128gcm16-ecp256-esn' is an ESP proposal, not an IKE one: 'esn' applies to ESP only: IKE SAs have no extended sequence numbers",
    ]);
  });

  it('esn in an IKE policy', () => {
    expect(report(edit(BASE, 3, '    proposals: [aes256gcm16-prfsha384-ecp384-esn]'))).toEqual([
      "ikekm.yaml:3:46: error: ikePolicies.hq-ike.proposals[0]: 'esn' applies to ESP only: IKE SAs have no extended sequence numbers in 'aes256gcm16-prfsha384-ecp384-esn'",
    ]);
  });

  it('an empty list and a non-string', () => {
    expect(report(edit(BASE, 7, '    proposals: []'))).toEqual(['ikekm.yaml:7:16: error: dataPolicies.hq-data.proposals: at least one proposal is required']);
    expect(report(edit(BASE, 7, '    proposals: [5]'))).toEqual(['ikekm.yaml:7:17: error: dataPolicies.hq-data.proposals[0]: expected a proposal string; got 5']);
  });

  it('missing proposals', () => {
    expect(report(edit(BASE, 7, '    mode: tunnel'))).toEqual(["ikekm.yaml:6:3: error: dataPolicies.hq-data: missing key 'proposals'"]);
  });
});

describe('IKE policy settings', () => {
  it('IKEv1 is not supported yet', () => {
    expect(report(edit(BASE, 3, '    version: 1\n    proposals: [aes256gcm16-prfsha384-ecp384]'))).toEqual([
      'ikekm.yaml:3:14: error: ikePolicies.hq-ike.version: IKEv1 is not supported yet; version must be 2',
    ]);
  });

  it('other versions', () => {
    expect(report(edit(BASE, 3, '    version: 3\n    proposals: [aes256gcm16-prfsha384-ecp384]'))).toEqual([
      'ikekm.yaml:3:14: error: ikePolicies.hq-ike.version: version must be 2; got 3',
    ]);
  });

  it('auth pubkey on a connection written for a PSK: the PSK is out of place and the CAs are missing', () => {
    expect(report(edit(BASE, 3, '    auth: pubkey\n    proposals: [aes256gcm16-prfsha384-ecp384]'))).toEqual([
      'ikekm.yaml:14:39: error: to-hq.local.psk: psk is for auth: psk; IKE policy hq-ike has auth: pubkey',
      "ikekm.yaml:15:5: error: to-hq.remote: ca is required with auth: pubkey: the CA certificate file(s) that the peer's certificate chains to",
    ]);
  });

  it('an unknown auth word names the allowed ones, strongSwan\'s and IBM i\'s', () => {
    expect(report(edit(BASE, 3, '    auth: certificates\n    proposals: [aes256gcm16-prfsha384-ecp384]'))).toEqual([
      "ikekm.yaml:3:11: error: ikePolicies.hq-ike.auth: auth 'certificates' is not allowed; allowed: psk, pubkey, rsa, rsa-signature, ecdsa, ecdsa-signature",
    ]);
  });

  it('an unknown key names the allowed ones', () => {
    expect(report(edit(BASE, 4, '    lifetme: 24h'))).toEqual([
      "ikekm.yaml:4:5: error: ikePolicies.hq-ike: unknown key 'lifetme'; allowed: version, auth, signature, proposals, lifetime, dpd, retransmit, fragmentation",
    ]);
  });

  it('DPD timeout shorter than the interval', () => {
    expect(report(edit(BASE, 4, '    lifetime: 24h\n    dpd: { interval: 30s, timeout: 10s }'))).toEqual([
      'ikekm.yaml:5:36: error: ikePolicies.hq-ike.dpd.timeout: dpd timeout (10 seconds) must not be shorter than the interval (30 seconds)',
    ]);
  });

  it('retransmit and fragmentation values', () => {
    const text = edit(BASE, 4, '    lifetime: 24h\n    retransmit: { timeout: 500ms, base: 0.5, tries: 3.5, limit: 1m }\n    fragmentation: { enabled: yes, maxDatagramSize: 100 }');
    expect(report(text)).toEqual([
      'ikekm.yaml:5:41: error: ikePolicies.hq-ike.retransmit.base: expected a growth factor from 1 to 10; got 0.5',
      'ikekm.yaml:5:53: error: ikePolicies.hq-ike.retransmit.tries: expected a number of retransmissions from 0 to 100; got 3.5',
      "ikekm.yaml:6:31: error: ikePolicies.hq-ike.fragmentation.enabled: expected true or false; got 'yes'",
      'ikekm.yaml:6:53: error: ikePolicies.hq-ike.fragmentation.maxDatagramSize: expected a datagram size in bytes from 576 to 65535; got 100',
    ]);
  });

  it('a retransmit timeout that is no duration', () => {
    expect(report(edit(BASE, 4, '    lifetime: 24h\n    retransmit: { timeout: soon }'))).toEqual([
      "ikekm.yaml:5:28: error: ikePolicies.hq-ike.retransmit.timeout: 'soon' is not a duration: write seconds or a number followed by ms, s, m or h (500ms, 0.5s, 4s)",
    ]);
  });
});

describe('data policy settings', () => {
  it('protocol and mode', () => {
    expect(report(edit(BASE, 7, '    protocol: ah\n    mode: tunel\n    proposals: [aes128gcm16-ecp256]'))).toEqual([
      "ikekm.yaml:7:15: error: dataPolicies.hq-data.protocol: protocol 'ah' is not supported; allowed: esp",
      "ikekm.yaml:8:11: error: dataPolicies.hq-data.mode: mode 'tunel' is not allowed; allowed: tunnel, transport",
    ]);
  });
});

describe('lifetimes', () => {
  it('below 5 minutes is refused, and the message says how to allow it', () => {
    expect(report(edit(BASE, 8, '    lifetime: 60s'))).toEqual([
      'ikekm.yaml:8:15: error: dataPolicies.hq-data.lifetime: lifetime of 60 seconds is below the 5-minute minimum; set daemon: { allowShortLifetimes: true } to allow it (tests and demos)',
    ]);
  });

  it('in the { time } form too, at the time', () => {
    expect(report(edit(BASE, 4, '    lifetime: { time: 4m }'))).toEqual([
      'ikekm.yaml:4:23: error: ikePolicies.hq-ike.lifetime.time: lifetime of 240 seconds is below the 5-minute minimum; set daemon: { allowShortLifetimes: true } to allow it (tests and demos)',
    ]);
  });

  it('allowShortLifetimes lets it through with a warning', () => {
    const text = `daemon: { allowShortLifetimes: true }\n${edit(BASE, 8, '    lifetime: 60s')}`;
    expect(report(text)).toEqual([
      'ikekm.yaml:9:15: warning: dataPolicies.hq-data.lifetime: lifetime of 60 seconds is below the 5-minute minimum (allowed by daemon.allowShortLifetimes; for tests and demos)',
    ]);
    expect(load(text).ok).toBe(true);
  });

  it('allowShortLifetimes counts wherever the daemon section is written', () => {
    const text = `${edit(BASE, 8, '    lifetime: 60s')}daemon: { allowShortLifetimes: true }\n`;
    expect(load(text).ok).toBe(true);
  });

  it('exactly 5 minutes is fine', () => {
    expect(report(edit(BASE, 8, '    lifetime: 5m'))).toEqual([]);
  });

  it('kilobytes in an IKE policy', () => {
    expect(report(edit(BASE, 4, '    lifetime: { time: 24h, kilobytes: 5 }'))).toEqual([
      'ikekm.yaml:4:28: error: ikePolicies.hq-ike.lifetime: kilobytes applies to data policies only: an IKE SA has no byte lifetime',
    ]);
  });

  it('a lifetime mapping needs a time', () => {
    expect(report(edit(BASE, 8, '    lifetime: { kilobytes: 5 }'))).toEqual(["ikekm.yaml:8:15: error: dataPolicies.hq-data.lifetime: missing key 'time'"]);
  });

  it('bad durations', () => {
    expect(report(edit(BASE, 8, '    lifetime: 60 minutes'))).toEqual([
      "ikekm.yaml:8:15: error: dataPolicies.hq-data.lifetime: '60 minutes' is not a duration: write seconds or a number followed by s, m, h or d (30s, 5m, 24h, 1d)",
    ]);
    expect(report(edit(BASE, 8, '    lifetime: 0'))).toEqual(['ikekm.yaml:8:15: error: dataPolicies.hq-data.lifetime: a duration must be more than 0 seconds']);
    expect(report(edit(BASE, 8, '    lifetime: 1.5h'))).toEqual([
      "ikekm.yaml:8:15: error: dataPolicies.hq-data.lifetime: '1.5h' is not a duration: write seconds or a number followed by s, m, h or d (30s, 5m, 24h, 1d)",
    ]);
  });
});

describe('PSK', () => {
  it('too short: the rule and the length, never the key', () => {
    const lines = report(edit(BASE, 13, '    local: { address: 192.0.2.1, psk: abc }'));
    expect(lines).toEqual(['ikekm.yaml:13:39: error: to-hq.local.psk: psk must be 8 to 128 characters; got 3']);
  });

  it('too long', () => {
    const psk = 'ab'.repeat(65);
    const lines = report(edit(BASE, 13, `    local: { address: 192.0.2.1, psk: ${psk} }`));
    expect(lines).toEqual(['ikekm.yaml:13:39: error: to-hq.local.psk: psk must be 8 to 128 characters; got 130']);
    expect(lines.join('\n')).not.toContain(psk);
  });

  it('one character repeated', () => {
    const lines = report(edit(BASE, 13, '    local: { address: 192.0.2.1, psk: xxxxxxxxxxxx }'));
    expect(lines).toEqual(['ikekm.yaml:13:39: error: to-hq.local.psk: psk must not be one character repeated']);
    expect(lines.join('\n')).not.toContain('xxxxxxxx');
  });

  it('not a string: described by its kind only', () => {
    const lines = report(edit(BASE, 13, '    local: { address: 192.0.2.1, psk: 987654321 }'));
    expect(lines).toEqual(['ikekm.yaml:13:39: error: to-hq.local.psk: expected a string or { file: PATH }; got a number']);
    expect(report(edit(BASE, 13, '    local: { address: 192.0.2.1, psk: [a] }'))).toEqual([
      'ikekm.yaml:13:39: error: to-hq.local.psk: expected a string or { file: PATH }; got a list',
    ]);
  });

  it('a missing psk file names the file and the errno', () => {
    expect(report(edit(BASE, 13, '    local: { address: 192.0.2.1, psk: { file: /etc/ikekm/secrets/nope.psk } }'))).toEqual([
      "ikekm.yaml:13:47: error: to-hq.local.psk.file: cannot read psk file '/etc/ikekm/secrets/nope.psk': ENOENT: no such file or directory",
    ]);
  });

  it('a relative psk file is relative to the configuration directory', () => {
    const text = edit(BASE, 13, '    local: { address: 192.0.2.1, psk: { file: secrets/to-hq.psk } }');
    expect(parseWith('/etc/ikekm/ikekm.yaml', text, { '/etc/ikekm/secrets/to-hq.psk': TEST_PSK })).toEqual([]);
    expect(parseWith('/srv/vpn/ikekm.yaml', text, {})).toEqual([
      "/srv/vpn/ikekm.yaml:13:47: error: to-hq.local.psk.file: cannot read psk file '/srv/vpn/secrets/to-hq.psk': ENOENT: no such file or directory",
    ]);
  });

  it('a psk file with a short key: the file and the rule', () => {
    expect(parseWith('/etc/ikekm/ikekm.yaml', BASE, { '/etc/ikekm/secrets/to-hq.psk': 'short\n' })).toEqual([
      "/etc/ikekm/ikekm.yaml:13:47: error: to-hq.local.psk.file: in '/etc/ikekm/secrets/to-hq.psk': psk must be 8 to 128 characters; got 5",
    ]);
  });

  it('psk is required', () => {
    expect(report(edit(BASE, 13, '    local: { address: 192.0.2.1 }'))).toEqual(["ikekm.yaml:13:5: error: to-hq.local: missing key 'psk': IKE policy hq-ike has auth: psk"]);
  });

  it('an inline psk in a file group or others can read draws a warning naming the file and mode', () => {
    const text = edit(BASE, 13, INLINE_PSK);
    expect(report(text, { fileMode: 0o100644 })).toEqual([
      'ikekm.yaml:13:39: warning: to-hq.local.psk: psk is written inline and ikekm.yaml can be read by group or others (mode 0644); chmod 600 the file or use psk: { file: PATH }',
    ]);
    expect(report(text, { fileMode: 0o100640 })).toHaveLength(1);
    expect(report(text, { fileMode: 0o100600 })).toEqual([]);
    expect(report(text, { fileMode: 0o100644 }).join('\n')).not.toContain(TEST_PSK);
  });
});

describe('peers', () => {
  it('an invalid remote address', () => {
    expect(report(edit(BASE, 14, '    remote: { address: 192.0.2.300, id: hq.example.net }'))).toEqual([
      "ikekm.yaml:14:24: error: to-hq.remote.address: '192.0.2.300' is not an IPv4 or IPv6 address or %any",
    ]);
  });

  it('an invalid local address (host names are not resolved)', () => {
    expect(report(edit(BASE, 13, '    local: { address: gw.example.net, psk: { file: /etc/ikekm/secrets/to-hq.psk } }'))).toEqual([
      "ikekm.yaml:13:23: error: to-hq.local.address: 'gw.example.net' is not an IPv4 or IPv6 address",
    ]);
  });

  it('address family mismatch between local and remote', () => {
    expect(report(edit(BASE, 14, '    remote: { address: "2001:db8::2", id: hq.example.net }'))).toEqual([
      'ikekm.yaml:14:24: error: to-hq.remote.address: remote address 2001:db8::2 is IPv6 but local address 192.0.2.1 is IPv4',
    ]);
  });

  it('%any needs an id', () => {
    expect(report(edit(BASE, 14, '    remote: { address: "%any" }'))).toEqual(["ikekm.yaml:14:5: error: to-hq.remote: remote id is required when the address is %any"]);
  });

  it('%any cannot initiate', () => {
    expect(report(edit(BASE, 14, '    remote: { address: "%any", id: "@peer" }'))).toEqual([
      "ikekm.yaml:16:12: error: to-hq.start: start 'on-load' needs a remote address to initiate to; with address %any use start: listen",
    ]);
  });

  it('a key ID that is not hex', () => {
    expect(report(edit(BASE, 14, '    remote: { address: 192.0.2.2, id: "keyid:zz" }'))).toEqual([
      "ikekm.yaml:14:39: error: to-hq.remote.id: id 'keyid:zz' is a key ID but 'zz' is not an even number of hex digits",
    ]);
  });

  it('ports', () => {
    expect(report(edit(BASE, 14, '    remote: { address: 192.0.2.2, port: 70000, id: hq.example.net }'))).toEqual([
      'ikekm.yaml:14:41: error: to-hq.remote.port: expected a port from 1 to 65535; got 70000',
    ]);
  });
});

describe('traffic', () => {
  it('a bad selector names the token', () => {
    expect(report(edit(BASE, 15, '    traffic: { local: [198.51.100.0/33], remote: [203.0.113.0/24] }'))).toEqual([
      "ikekm.yaml:15:24: error: to-hq.traffic.local[0]: '198.51.100.0/33' is not a traffic selector: '/33' is not a prefix length for IPv4 (0..32)",
    ]);
    expect(report(edit(BASE, 15, '    traffic: { local: [198.51.100.0/24], remote: [203.0.113.0/24, lan] }'))).toEqual([
      "ikekm.yaml:15:67: error: to-hq.traffic.remote[1]: 'lan' is not a traffic selector: 'lan' is not an IPv4 or IPv6 address",
    ]);
  });

  it('both sides are required and not empty', () => {
    expect(report(edit(BASE, 15, '    traffic: { local: [] }'))).toEqual([
      "ikekm.yaml:15:5: error: to-hq.traffic: missing key 'remote'",
      'ikekm.yaml:15:23: error: to-hq.traffic.local: at least one subnet is required',
    ]);
  });
});

describe('connections', () => {
  it('start action values', () => {
    expect(report(edit(BASE, 16, '    start: onload'))).toEqual([
      "ikekm.yaml:16:12: error: to-hq.start: start 'onload' is not allowed; allowed: on-load, on-demand, listen",
    ]);
  });

  it('a missing required key is reported at the connection name', () => {
    expect(report(edit(BASE, 12, ''))).toEqual([
      'ikekm.yaml:6:3: warning: dataPolicies.hq-data: not used by any connection',
      "ikekm.yaml:10:3: error: to-hq: missing key 'dataPolicy'",
    ]);
  });

  it('duplicate names are errors with the line of the first', () => {
    expect(report(`${BASE}  to-hq:\n    ikePolicy: hq-ike\n`)).toEqual(["ikekm.yaml:17:3: error: connections: duplicate key 'to-hq' (first defined at line 10)"]);
    expect(report(edit(BASE, 4, '    lifetime: 24h\n    lifetime: 8h'))).toEqual([
      "ikekm.yaml:5:5: error: ikePolicies.hq-ike: duplicate key 'lifetime' (first defined at line 4)",
    ]);
  });

  it('names are restricted to what a CLI argument and a path can carry', () => {
    expect(report(edit(BASE, 10, '  to hq:'))).toEqual([
      'ikekm.yaml:2:3: warning: ikePolicies.hq-ike: not used by any connection',
      'ikekm.yaml:6:3: warning: dataPolicies.hq-data: not used by any connection',
      "ikekm.yaml:10:3: error: to hq: name 'to hq' is not allowed: use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit",
    ]);
  });

  it('an empty connections map is allowed, with a warning', () => {
    const r = load('daemon: { kernel: memory }\nconnections: {}\n');
    expect(r.ok && r.value.engine.connections).toEqual([]);
    expect(report('daemon: { kernel: memory }\nconnections: {}\n')).toEqual([
      'ikekm.yaml:2:1: warning: connections: no connections are defined; the daemon will start and wait',
    ]);
    expect(report('')).toEqual([
      'ikekm.yaml:1:1: warning: no connections are defined; the daemon will start and wait (a reload with this file is refused unless it says connections: {})',
    ]);
  });
});

describe('daemon section', () => {
  it('kernel backends: xfrm by default, memory on request, nothing else', () => {
    const kernelOf = (text: string) => {
      const r = load(text);
      return r.ok ? r.value.daemon.kernel : r.error.map(formatDiagnostic);
    };
    expect(kernelOf(BASE)).toBe('xfrm');
    expect(kernelOf(`daemon: { kernel: xfrm }\n${BASE}`)).toBe('xfrm');
    expect(kernelOf(`daemon: { kernel: memory }\n${BASE}`)).toBe('memory');
    expect(report(`daemon: { kernel: pfkey }\n${BASE}`)).toEqual(["ikekm.yaml:1:19: error: daemon.kernel: kernel 'pfkey' is not available; allowed: xfrm, memory"]);
  });

  it('ports, listen addresses, keepalive', () => {
    expect(report(`daemon: { ports: { ike: 4500 }, listen: [1.2.3.4, "fe80::zz"], natKeepaliveSeconds: 20x }\n${BASE}`)).toEqual([
      'ikekm.yaml:1:18: error: daemon.ports: the NAT-T port must differ from the IKE port (4500)',
      "ikekm.yaml:1:51: error: daemon.listen[1]: 'fe80::zz' is not an IPv4 or IPv6 address",
      "ikekm.yaml:1:85: error: daemon.natKeepaliveSeconds: '20x' is not a duration: write seconds or a number followed by s, m, h or d (30s, 5m, 24h, 1d)",
    ]);
  });

  it('heap growth: a whole percentage from 0 (V8 decides) to 300, 25 when not given', () => {
    const growthOf = (text: string) => {
      const r = load(text);
      return r.ok ? r.value.daemon.heapGrowthPercent : r.error.map(formatDiagnostic);
    };
    expect(growthOf(BASE)).toBe(25);
    expect(growthOf(`daemon: { heapGrowthPercent: 0 }\n${BASE}`)).toBe(0);
    expect(growthOf(`daemon: { heapGrowthPercent: 60 }\n${BASE}`)).toBe(60);
    expect(report(`daemon: { heapGrowthPercent: 12.5 }\n${BASE}`)).toEqual(['ikekm.yaml:1:30: error: daemon.heapGrowthPercent: expected a percentage from 0 to 300; got 12.5']);
    expect(report(`daemon: { heapGrowthPercent: 400 }\n${BASE}`)).toEqual(['ikekm.yaml:1:30: error: daemon.heapGrowthPercent: expected a percentage from 0 to 300; got 400']);
  });

  it('unknown keys at the top and in the daemon section', () => {
    expect(report(`daemon: { kernal: memory }\n${BASE}extra: 1\n`)).toEqual([
      "ikekm.yaml:1:11: error: daemon: unknown key 'kernal'; allowed: listen, ports, control, kernel, allowShortLifetimes, natKeepaliveSeconds, heapGrowthPercent, limits",
      "ikekm.yaml:18:1: error: unknown key 'extra'; allowed: daemon, ikePolicies, dataPolicies, connections",
    ]);
  });
});

describe('YAML itself', () => {
  it('syntax errors carry the parser message and position', () => {
    expect(report('connections: [a\n')).toEqual(['ikekm.yaml:2:1: error: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']);
  });

  it('a document that is not a mapping', () => {
    expect(report('- a\n')).toEqual(['ikekm.yaml:1:1: error: expected a mapping with the keys daemon, ikePolicies, dataPolicies, connections; got a list']);
  });

  it('aliases are refused', () => {
    expect(report(edit(BASE, 8, '    lifetime: *x'))).toEqual([
      'ikekm.yaml:8:15: error: dataPolicies.hq-data.lifetime: YAML aliases (*name) are not supported; define a named policy and refer to it instead',
    ]);
  });

  it('flow collections nested absurdly deep are refused before parsing', () => {
    expect(report(`a: ${'['.repeat(200)}`)).toEqual(['ikekm.yaml:1:132: error: collections nested more than 128 levels deep']);
  });

  it('more than one document', () => {
    expect(report(`${BASE}---\na: 1\n`)).toEqual(['ikekm.yaml:17:1: error: YAML: Source contains multiple documents; please use YAML.parseAllDocuments()']);
  });
});

describe('all errors at once', () => {
  it('collects every error, sorted by line', () => {
    let text = edit(BASE, 16, '    start: never');
    text = edit(text, 14, '    remote: { address: 192.0.2.300, id: hq.example.net }');
    text = edit(text, 8, '    lifetime: 60s');
    text = edit(text, 3, '    proposals: [aes256gcm16-prfsha384-ecp385]');
    text = `daemon: { kernel: pfkey }\n${text}`;
    expect(report(text)).toEqual([
      "ikekm.yaml:1:19: error: daemon.kernel: kernel 'pfkey' is not available; allowed: xfrm, memory",
      "ikekm.yaml:4:39: error: ikePolicies.hq-ike.proposals[0]: unknown algorithm 'ecp385' in 'aes256gcm16-prfsha384-ecp385'",
      'ikekm.yaml:9:15: error: dataPolicies.hq-data.lifetime: lifetime of 60 seconds is below the 5-minute minimum; set daemon: { allowShortLifetimes: true } to allow it (tests and demos)',
      "ikekm.yaml:15:24: error: to-hq.remote.address: '192.0.2.300' is not an IPv4 or IPv6 address or %any",
      "ikekm.yaml:17:12: error: to-hq.start: start 'never' is not allowed; allowed: on-load, on-demand, listen",
    ]);
  });
});
function parseWith(file: string, text: string, files: Record<string, string>): string[] {
  const r = parseConfig(text, file, { readFile: fakeFiles(files) });
  return (r.ok ? r.value.warnings : r.error).map(formatDiagnostic);
}
