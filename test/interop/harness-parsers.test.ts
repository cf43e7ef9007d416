/**
 * The harness's parsers on recorded strongSwan 5.9.8 output, so they are checked on every
 * machine (no root or strongSwan needed). The fixtures are the IKE/CHD/MGR lines of the two
 * charon logs of one smoke-test run (initial exchange, Child SA rekey, IKE SA rekey, delete),
 * recorded in this repository's lab.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { strongswanConf } from './harness/charon.js';
import { parseContext, parseDerivedKeys } from './harness/charon-log.js';
import { interopGate } from './harness/requirements.js';
import { parseListSas, parseViciPretty } from './harness/vici.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseDerivedKeys on recorded charon logs', () => {
  const initiator = parseDerivedKeys(fixture('charon-initiator-rekeys.txt'));
  const responder = parseDerivedKeys(fixture('charon-responder-rekeys.txt'));

  it('finds both IKE SAs with the SPIs from their checkin lines', () => {
    expect(initiator.ike.map((k) => [k.name, k.uniqueId, k.spiI, k.spiR])).toEqual([
      ['lab', 1, 'd43972c7d4c27ad4', '1815c695bb9f53b5'],
      ['lab', 2, '70da9f1ee115add1', 'e55d89e2167291f3'],
    ]);
    expect(responder.ike.map((k) => [k.uniqueId, k.spiI, k.spiR])).toEqual(initiator.ike.map((k) => [k.uniqueId, k.spiI, k.spiR]));
  });

  it('reads multi-line hex dumps exactly (values checked by hand against the fixture)', () => {
    expect(initiator.ike[0]?.SK_ei).toBe('51ed426a64ce6883ab5f80c610a15b4a');
    expect(initiator.ike[1]?.SK_ei).toBe('94ca5dfe88d0dfcf4b44173e1937d5b1');
    expect(responder.child[0]?.encryptionInitiator).toBe('4db32b2f4cddcde3ba85acc61cfca595028c3ee1');
    expect(responder.child[1]?.encryptionInitiator).toBe('2b2b623dc74fa74a02bcd1b95d64ad801f38f93b');
  });

  it('gets identical IKE keys from both peers, for the initial and the rekeyed SA', () => {
    for (const i of [0, 1]) {
      const x = initiator.ike[i];
      const y = responder.ike[i];
      for (const field of ['sharedSecret', 'SKEYSEED', 'SK_d', 'SK_ai', 'SK_ar', 'SK_ei', 'SK_er', 'SK_pi', 'SK_pr'] as const) {
        expect(x?.[field], `${field} of IKE SA ${i}`).toMatch(/^[0-9a-f]{32,}$/);
        expect(x?.[field], `${field} of IKE SA ${i}`).toBe(y?.[field]);
      }
    }
    // The rekeyed SA's keys are logged in the old SA's context on the initiator, the new one's on the responder.
    expect(initiator.ike[1]?.context).toEqual({ name: 'lab', uniqueId: 1 });
    expect(responder.ike[1]?.context).toEqual({ name: 'lab', uniqueId: 2 });
  });

  it('gets each Child SA once (not again for the "outbound CHILD_SA" line), keys crossing over', () => {
    expect(initiator.child.map((c) => [c.name, c.uniqueId, c.spiIn, c.spiOut])).toEqual([
      ['net', 1, '7ee5df01', 'c30e4d98'],
      ['net', 2, '4fe37ee6', '5e4d2f74'],
    ]);
    expect(responder.child.map((c) => [c.spiOut, c.spiIn])).toEqual(initiator.child.map((c) => [c.spiIn, c.spiOut]));
    for (const i of [0, 1]) {
      expect(initiator.child[i]?.encryptionInitiator).toBe(responder.child[i]?.encryptionInitiator);
      expect(initiator.child[i]?.encryptionResponder).toBe(responder.child[i]?.encryptionResponder);
      expect(initiator.child[i]?.integrityInitiator).toBeUndefined(); // AES-GCM
    }
    expect(initiator.child[0]?.localTs).toBe('198.51.100.1/32');
    expect(initiator.child[0]?.remoteTs).toBe('203.0.113.1/32');
  });

  it('keeps every dump, e.g. nonces and the AUTH octets', () => {
    expect(initiator.dumps.some((d) => d.label === 'SKEYSEED')).toBe(true);
    expect(initiator.dumps.every((d) => /^[0-9a-f]*$/.test(d.hex))).toBe(true);
  });
});

describe('parseDerivedKeys on constructed logs', () => {
  const dump = (thread: string, ctx: string, label: string, bytes: number[]): string[] => {
    const lines = [`${thread}[IKE] <${ctx}> ${label} => ${bytes.length} bytes @ 0x7f0000001000`];
    for (let offset = 0; offset < bytes.length; offset += 16) {
      const row = bytes.slice(offset, offset + 16);
      const hex = row.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
      // The ASCII column may hold anything, including text that looks like hex groups.
      lines.push(`${thread}[IKE] <${ctx}> ${String(offset).padStart(4)}: ${hex.padEnd(48)}  AB CD 12 34`);
    }
    return lines;
  };
  const range = (n: number, start: number): number[] => Array.from({ length: n }, (_, i) => (start + i) & 0xff);

  it('keeps two threads apart when their dumps interleave', () => {
    const t1 = [...dump('05', 'x|1', 'SKEYSEED', range(20, 0)), ...dump('05', 'x|1', 'Sk_d secret', range(20, 1))];
    const t2 = [...dump('07', 'y|2', 'SKEYSEED', range(20, 100)), ...dump('07', 'y|2', 'Sk_d secret', range(20, 101))];
    const lines: string[] = [];
    for (let i = 0; i < Math.max(t1.length, t2.length); i++) lines.push(...[t1[i], t2[i]].filter((l): l is string => l !== undefined));
    lines.push('07[MGR] <y|2> checkin IKEv2 SA y[2] with SPIs 2222222222222222_i 3333333333333333_r');
    lines.push('05[MGR] <x|1> checkin IKEv2 SA x[1] with SPIs 0000000000000001_i 0000000000000002_r');
    const keys = parseDerivedKeys(lines.join('\n'));
    expect(keys.ike.map((k) => [k.name, k.spiI, k.SKEYSEED?.slice(0, 6), k.SK_d?.slice(-4)])).toEqual([
      ['x', '0000000000000001', '000102', '1314'],
      ['y', '2222222222222222', '646566', '7778'],
    ]);
  });

  it('reports keys of an SA destroyed before any checkin with unknown SPIs', () => {
    const keys = parseDerivedKeys([...dump('03', '4', 'Sk_d secret', range(32, 7))].join('\n'));
    expect(keys.ike).toHaveLength(1);
    expect(keys.ike[0]?.spiI).toBeUndefined();
    expect(keys.ike[0]?.context).toEqual({ name: undefined, uniqueId: 4 });
  });

  it('attaches a PFS Child SA DH secret to nothing but the dumps list', () => {
    const lines = [
      ...dump('03', 'c|1', 'shared Diffie Hellman secret', range(32, 9)),
      '03[MGR] <c|1> checkin IKEv2 SA c[1] with SPIs 0000000000000001_i 0000000000000002_r',
    ];
    const keys = parseDerivedKeys(lines.join('\n'));
    expect(keys.ike).toEqual([]);
    expect(keys.dumps).toHaveLength(1);
  });

  it('parses log contexts', () => {
    expect(parseContext('lab|12')).toEqual({ name: 'lab', uniqueId: 12 });
    expect(parseContext('3')).toEqual({ name: undefined, uniqueId: 3 });
    expect(parseContext(undefined)).toBeUndefined();
  });
});

// Recorded `swanctl --list-sas --pretty` output of strongSwan 5.9.8 after a Child SA rekey.
const LIST_SAS = `list-sa event {
  lab {
    uniqueid = 2
    version = 2
    state = ESTABLISHED
    local-host = 192.0.2.1
    local-port = 4500
    local-id = 192.0.2.1
    remote-host = 192.0.2.2
    remote-port = 4500
    remote-id = 192.0.2.2
    initiator = yes
    initiator-spi = 5172c00dd50418ae
    responder-spi = e9a7e7c5700866dc
    nat-remote = yes
    nat-any = yes
    encr-alg = AES_CBC
    encr-keysize = 128
    integ-alg = HMAC_SHA2_256_128
    prf-alg = PRF_HMAC_SHA2_256
    dh-group = MODP_2048
    established = 1
    rekey-time = 13749
    child-sas {
      net-1 {
        name = net
        uniqueid = 1
        reqid = 1
        state = DELETED
        mode = TUNNEL
        protocol = ESP
        encap = yes
        spi-in = 5fcb8a80
        spi-out = 2bed0f18
        encr-alg = AES_GCM_16
        encr-keysize = 128
        bytes-in = 168
        packets-in = 2
        use-in = 24
        bytes-out = 0
        packets-out = 0
        rekey-time = 3325
        life-time = 3934
        install-time = 26
        local-ts = [
          198.51.100.1/32
        ]
        remote-ts = [
          203.0.113.1/32
        ]
      }
      net-2 {
        name = net
        uniqueid = 2
        reqid = 1
        state = INSTALLED
        mode = TUNNEL
        protocol = ESP
        encap = yes
        spi-in = 460d4c3c
        spi-out = 618f9e1a
        encr-alg = AES_GCM_16
        encr-keysize = 128
        bytes-in = 0
        packets-in = 0
        bytes-out = 0
        packets-out = 0
        rekey-time = 3433
        life-time = 3958
        install-time = 2
        local-ts = [
          198.51.100.1/32
        ]
        remote-ts = [
          203.0.113.1/32
        ]
      }
    }
  }
}
list-sas reply {
}
`;

describe('parseListSas', () => {
  it('types a recorded list-sas answer', () => {
    const [sa, ...rest] = parseListSas(LIST_SAS);
    expect(rest).toEqual([]);
    expect(sa).toMatchObject({
      name: 'lab',
      uniqueId: 2,
      version: 2,
      state: 'ESTABLISHED',
      localHost: '192.0.2.1',
      localPort: 4500,
      remoteId: '192.0.2.2',
      initiator: true,
      spiI: '5172c00dd50418ae',
      spiR: 'e9a7e7c5700866dc',
      natRemote: true,
      natLocal: false,
      encrAlg: 'AES_CBC',
      encrKeysize: 128,
      integAlg: 'HMAC_SHA2_256_128',
      prfAlg: 'PRF_HMAC_SHA2_256',
      dhGroup: 'MODP_2048',
    });
    expect(sa?.childSas.map((c) => [c.key, c.uniqueId, c.state, c.spiIn, c.spiOut, c.bytesIn])).toEqual([
      ['net-1', 1, 'DELETED', '5fcb8a80', '2bed0f18', 168],
      ['net-2', 2, 'INSTALLED', '460d4c3c', '618f9e1a', 0],
    ]);
    expect(sa?.childSas[1]).toMatchObject({ name: 'net', mode: 'TUNNEL', protocol: 'ESP', encap: true, encrAlg: 'AES_GCM_16', integAlg: undefined });
    expect(sa?.childSas[1]?.localTs).toEqual(['198.51.100.1/32']);
  });

  it('keeps identities with spaces and " = " intact (why --pretty rather than --raw)', () => {
    const text = 'list-sa event {\n  x {\n    uniqueid = 1\n    local-id = C=CH, O=Lab = Test, CN=a\n    child-sas {\n    }\n  }\n}\n';
    expect(parseListSas(text)[0]?.localId).toBe('C=CH, O=Lab = Test, CN=a');
  });

  it('returns nothing when no SA exists, and ignores log lines around the messages', () => {
    expect(parseListSas('list-sas reply {\n}\n')).toEqual([]);
    expect(parseViciPretty('some warning\nlist-sas reply {\n}\n')).toEqual([{ label: 'list-sas reply', body: {} }]);
  });

  it('rejects malformed text rather than guessing', () => {
    expect(() => parseViciPretty('list-sa event {\n  x {\n')).toThrow(/ended inside/);
    expect(() => parseViciPretty('list-sa event {\n      too deep\n}\n')).toThrow(/line 2/);
  });
});

describe('strongswanConf', () => {
  it('renders the verified configuration with ports, plugins and log levels configurable', () => {
    const conf = strongswanConf({ dir: '/tmp/lab/a', port: 1500, portNatT: 14500, logLevels: { ike: 2, enc: 3 } });
    expect(conf).toMatch(/^ {2}load = kdf random nonce openssl .* kernel-libipsec kernel-netlink socket-default vici updown$/m);
    expect(conf).toMatch(/^ {2}port = 1500$/m);
    expect(conf).toMatch(/^ {2}port_nat_t = 14500$/m);
    expect(conf).toMatch(/^ {6}path = \/tmp\/lab\/a\/charon\.log$/m);
    expect(conf).toMatch(/^ {6}ike = 2$/m);
    expect(conf).toMatch(/^ {6}chd = 4$/m);
    expect(conf).toMatch(/^ {6}enc = 3$/m);
    expect(conf).toMatch(/^ {6}socket = unix:\/\/\/tmp\/lab\/a\/charon\.vici$/m);
    const plain = strongswanConf({ dir: '/d', plugins: ['kdf', 'vici'] });
    expect(plain).toMatch(/^ {2}load = kdf vici$/m);
    expect(plain).not.toMatch(/port/);
  });
});

describe('interop availability policy', () => {
  it('runs when available, skips when missing, fails when missing under CI=true', () => {
    expect(interopGate({ available: true, missing: [] }, { CI: 'true' })).toBe('run');
    expect(interopGate({ available: false, missing: ['root'] }, {})).toBe('skip');
    expect(interopGate({ available: false, missing: ['root'] }, { CI: 'true' })).toBe('fail');
  });
});
