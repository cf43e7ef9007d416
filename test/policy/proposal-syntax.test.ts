/**
 * strongSwan proposal syntax. The keyword expectations below are written from strongSwan's
 * "IKEv2 Cipher Suites" documentation (docs.strongswan.org/docs/latest/config/proposals.html and
 * the wiki page IKEv2CipherSuites) and the IANA IKEv2 registry, not from the implementation's table.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROPOSALS,
  ProposalSyntaxError,
  formatProposal,
  parseProposal,
  parseProposalList,
  type AlgorithmSet,
} from '../../src/policy/proposal-syntax.js';
import { DhId, EncrId, EsnId, IntegId, PrfId } from '../../src/wire/iana.js';

function parsed(text: string, protocol: 'ike' | 'esp'): AlgorithmSet {
  const r = parseProposal(text, protocol);
  if (!r.ok) throw new Error(`expected '${text}' to parse: ${r.error.message}`);
  return r.value;
}

function failure(text: string, protocol: 'ike' | 'esp'): ProposalSyntaxError {
  const r = parseProposal(text, protocol);
  if (r.ok) throw new Error(`expected '${text}' to fail, got ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('keywords', () => {
  const encryption: [string, EncrId, number | undefined][] = [
    ['aes128', EncrId.ENCR_AES_CBC, 128],
    ['aes192', EncrId.ENCR_AES_CBC, 192],
    ['aes256', EncrId.ENCR_AES_CBC, 256],
    ['aes', EncrId.ENCR_AES_CBC, 128],
    ['aes128ctr', EncrId.ENCR_AES_CTR, 128],
    ['aes256ctr', EncrId.ENCR_AES_CTR, 256],
    ['3des', EncrId.ENCR_3DES, undefined],
    ['des', EncrId.ENCR_DES, undefined],
    ['cast128', EncrId.ENCR_CAST, 128],
    ['blowfish', EncrId.ENCR_BLOWFISH, 128],
    ['blowfish256', EncrId.ENCR_BLOWFISH, 256],
    ['null', EncrId.ENCR_NULL, undefined],
    ['camellia', EncrId.ENCR_CAMELLIA_CBC, 128],
    ['camellia192', EncrId.ENCR_CAMELLIA_CBC, 192],
    ['camellia256ctr', EncrId.ENCR_CAMELLIA_CTR, 256],
  ];
  it.each(encryption)('%s is a classic cipher (ENCR %i, KEY_LENGTH %s)', (kw, id, bits) => {
    const set = parsed(`${kw}-sha256`, 'esp');
    expect(set.encryption).toEqual([bits === undefined ? { id } : { id, keyLengthBits: bits }]);
    expect(set.integrity).toEqual([IntegId.AUTH_HMAC_SHA2_256_128]);
  });

  const aead: [string, EncrId, number | undefined][] = [
    ['aes128gcm16', EncrId.ENCR_AES_GCM_16, 128],
    ['aes192gcm16', EncrId.ENCR_AES_GCM_16, 192],
    ['aes256gcm16', EncrId.ENCR_AES_GCM_16, 256],
    ['aes128gcm128', EncrId.ENCR_AES_GCM_16, 128],
    ['aes128gcm', EncrId.ENCR_AES_GCM_16, 128],
    ['aes256gcm', EncrId.ENCR_AES_GCM_16, 256],
    ['aes128gcm12', EncrId.ENCR_AES_GCM_12, 128],
    ['aes256gcm96', EncrId.ENCR_AES_GCM_12, 256],
    ['aes128gcm8', EncrId.ENCR_AES_GCM_8, 128],
    ['aes192gcm64', EncrId.ENCR_AES_GCM_8, 192],
    ['aes128ccm16', EncrId.ENCR_AES_CCM_16, 128],
    ['aes256ccm', EncrId.ENCR_AES_CCM_16, 256],
    ['aes128ccm12', EncrId.ENCR_AES_CCM_12, 128],
    ['aes128ccm64', EncrId.ENCR_AES_CCM_8, 128],
    ['aes256gmac', EncrId.ENCR_NULL_AUTH_AES_GMAC, 256],
    ['camellia128ccm16', EncrId.ENCR_CAMELLIA_CCM_16, 128],
    ['chacha20poly1305', EncrId.ENCR_CHACHA20_POLY1305, undefined],
  ];
  it.each(aead)('%s is an AEAD (ENCR %i, KEY_LENGTH %s) and needs no integrity', (kw, id, bits) => {
    const set = parsed(kw, 'esp');
    expect(set.encryption).toEqual([bits === undefined ? { id } : { id, keyLengthBits: bits }]);
    expect(set.integrity).toEqual([]);
  });

  const integrity: [string, IntegId][] = [
    ['sha1', IntegId.AUTH_HMAC_SHA1_96],
    ['sha', IntegId.AUTH_HMAC_SHA1_96],
    ['sha1_160', IntegId.AUTH_HMAC_SHA1_160],
    ['sha256', IntegId.AUTH_HMAC_SHA2_256_128],
    ['sha2_256', IntegId.AUTH_HMAC_SHA2_256_128],
    ['sha384', IntegId.AUTH_HMAC_SHA2_384_192],
    ['sha2_384', IntegId.AUTH_HMAC_SHA2_384_192],
    ['sha512', IntegId.AUTH_HMAC_SHA2_512_256],
    ['sha2_512', IntegId.AUTH_HMAC_SHA2_512_256],
    ['md5', IntegId.AUTH_HMAC_MD5_96],
    ['md5_128', IntegId.AUTH_HMAC_MD5_128],
    ['aesxcbc', IntegId.AUTH_AES_XCBC_96],
    ['aescmac', IntegId.AUTH_AES_CMAC_96],
  ];
  it.each(integrity)('%s is integrity algorithm %i', (kw, id) => {
    expect(parsed(`aes128-${kw}`, 'esp').integrity).toEqual([id]);
  });

  const prfs: [string, PrfId][] = [
    ['prfsha1', PrfId.PRF_HMAC_SHA1],
    ['prfsha256', PrfId.PRF_HMAC_SHA2_256],
    ['prfsha384', PrfId.PRF_HMAC_SHA2_384],
    ['prfsha512', PrfId.PRF_HMAC_SHA2_512],
    ['prfmd5', PrfId.PRF_HMAC_MD5],
    ['prfaesxcbc', PrfId.PRF_AES128_XCBC],
    ['prfaescmac', PrfId.PRF_AES128_CMAC],
  ];
  it.each(prfs)('%s is PRF %i', (kw, id) => {
    expect(parsed(`aes128gcm16-${kw}-ecp256`, 'ike').prf).toEqual([id]);
  });

  const groups: [string, DhId][] = [
    ['modp768', DhId.MODP_768],
    ['modp1024', DhId.MODP_1024],
    ['modp1536', DhId.MODP_1536],
    ['modp2048', DhId.MODP_2048],
    ['modp3072', DhId.MODP_3072],
    ['modp4096', DhId.MODP_4096],
    ['modp6144', DhId.MODP_6144],
    ['modp8192', DhId.MODP_8192],
    ['modp1024s160', DhId.MODP_1024_160],
    ['modp2048s224', DhId.MODP_2048_224],
    ['modp2048s256', DhId.MODP_2048_256],
    ['ecp192', DhId.ECP_192],
    ['ecp224', DhId.ECP_224],
    ['ecp256', DhId.ECP_256],
    ['ecp384', DhId.ECP_384],
    ['ecp521', DhId.ECP_521],
    ['ecp224bp', DhId.BRAINPOOL_P224R1],
    ['ecp256bp', DhId.BRAINPOOL_P256R1],
    ['ecp384bp', DhId.BRAINPOOL_P384R1],
    ['ecp512bp', DhId.BRAINPOOL_P512R1],
    ['x25519', DhId.CURVE25519],
    ['curve25519', DhId.CURVE25519],
    ['x448', DhId.CURVE448],
    ['curve448', DhId.CURVE448],
  ];
  it.each(groups)('%s is DH group %i', (kw, id) => {
    expect(parsed(`aes128gcm16-prfsha256-${kw}`, 'ike').dh).toEqual([id]);
    expect(parsed(`aes128gcm16-${kw}`, 'esp').dh).toEqual([id]);
  });

  it('esn and noesn are the ESN transforms; ESP defaults to noesn', () => {
    expect(parsed('aes128gcm16-esn', 'esp').esn).toEqual([EsnId.ESN]);
    expect(parsed('aes128gcm16-noesn', 'esp').esn).toEqual([EsnId.NO_ESN]);
    expect(parsed('aes128gcm16-esn-noesn', 'esp').esn).toEqual([EsnId.ESN, EsnId.NO_ESN]);
    expect(parsed('aes128gcm16', 'esp').esn).toEqual([EsnId.NO_ESN]);
  });

  it('matches keywords case-insensitively and ignores whitespace around them', () => {
    expect(parsed(' AES256 - SHA256 -MODP2048 ', 'ike')).toEqual(parsed('aes256-sha256-modp2048', 'ike'));
  });

  it('counts a keyword given twice, or through an alias, once', () => {
    expect(parsed('aes128-aes-sha256-sha2_256', 'esp').encryption).toEqual([{ id: EncrId.ENCR_AES_CBC, keyLengthBits: 128 }]);
    expect(parsed('aes128-aes-sha256-sha2_256', 'esp').integrity).toEqual([IntegId.AUTH_HMAC_SHA2_256_128]);
  });

  it('keeps the order of preference within a kind, whatever the order across kinds', () => {
    // strongSwan docs: "aes256gcm16-prfsha384-ecp384-aes192gcm16-prfsha256-modp3072" is the same proposal
    const a = parsed('aes256gcm16-aes192gcm16-prfsha384-prfsha256-ecp384-modp3072', 'ike');
    const b = parsed('aes256gcm16-prfsha384-ecp384-aes192gcm16-prfsha256-modp3072', 'ike');
    expect(a).toEqual(b);
    expect(a).toEqual({
      encryption: [
        { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256 },
        { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 192 },
      ],
      integrity: [],
      prf: [PrfId.PRF_HMAC_SHA2_384, PrfId.PRF_HMAC_SHA2_256],
      dh: [DhId.ECP_384, DhId.MODP_3072],
      esn: [],
    });
  });
});

describe('IKE rules', () => {
  it('derives PRFs from the integrity algorithms when none is given, in their order', () => {
    expect(parsed('aes256-sha256-modp2048', 'ike').prf).toEqual([PrfId.PRF_HMAC_SHA2_256]);
    expect(parsed('aes256-sha512-sha1-aesxcbc-ecp256', 'ike').prf).toEqual([
      PrfId.PRF_HMAC_SHA2_512,
      PrfId.PRF_HMAC_SHA1,
      PrfId.PRF_AES128_XCBC,
    ]);
    expect(parsed('aes256-sha1_160-sha1-ecp256', 'ike').prf).toEqual([PrfId.PRF_HMAC_SHA1]);
  });

  it('uses an explicit PRF as given, without adding derived ones', () => {
    expect(parsed('aes256-sha256-prfsha384-ecp256', 'ike').prf).toEqual([PrfId.PRF_HMAC_SHA2_384]);
  });

  it('refuses an AEAD proposal with neither PRF nor integrity (aes256gcm16-ecp384), like strongSwan', () => {
    const e = failure('aes256gcm16-ecp384', 'ike');
    expect(e.reason).toMatch(/PRF is required/);
    expect(e.position).toBe('aes256gcm16-ecp384'.length);
  });

  it('takes an integrity keyword next to an AEAD as the PRF and drops it (aes256gcm16-sha384-ecp384)', () => {
    expect(parsed('aes256gcm16-sha384-ecp384', 'ike')).toEqual({
      encryption: [{ id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256 }],
      integrity: [],
      prf: [PrfId.PRF_HMAC_SHA2_384],
      dh: [DhId.ECP_384],
      esn: [],
    });
  });

  it('needs integrity with classic encryption', () => {
    expect(failure('aes256-prfsha256-ecp256', 'ike').reason).toMatch(/integrity algorithm is required/);
  });

  it('needs at least one DH group, and drops none/modpnone', () => {
    expect(failure('aes256-sha256', 'ike').reason).toMatch(/DH group is required/);
    expect(failure('aes256-sha256-modpnone', 'ike').reason).toMatch(/DH group is required/);
    expect(parsed('aes256-sha256-modp2048-none', 'ike').dh).toEqual([DhId.MODP_2048]);
  });

  it('refuses esn/noesn, naming the keyword and its position', () => {
    const e = failure('aes256-sha256-modp2048-noesn', 'ike');
    expect(e.position).toBe(23);
    expect(e.reason).toMatch(/'noesn' applies to ESP only/);
  });

  it('needs an encryption algorithm', () => {
    expect(failure('sha256-prfsha256-modp2048', 'ike').reason).toMatch(/encryption algorithm is required/);
  });
});

describe('ESP rules', () => {
  it('a DH group means PFS; none alone means no PFS; none next to a group makes PFS optional', () => {
    expect(parsed('aes128-sha256', 'esp').dh).toEqual([]);
    expect(parsed('aes128-sha256-modp2048', 'esp').dh).toEqual([DhId.MODP_2048]);
    expect(parsed('aes128-sha256-none', 'esp').dh).toEqual([]);
    expect(parsed('aes128-sha256-modp2048-none', 'esp').dh).toEqual([DhId.MODP_2048, DhId.NONE]);
  });

  it('refuses classic encryption without integrity (stricter than strongSwan)', () => {
    const e = failure('aes128', 'esp');
    expect(e.reason).toMatch(/integrity algorithm is required/);
    expect(e.position).toBe(6);
  });

  it('drops integrity next to an AEAD and PRFs always', () => {
    expect(parsed('aes128gcm16-sha256-prfsha256', 'esp')).toEqual({
      encryption: [{ id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128 }],
      integrity: [],
      prf: [],
      dh: [],
      esn: [EsnId.NO_ESN],
    });
  });
});

describe('errors', () => {
  it('names an unknown keyword and where it starts', () => {
    const e = failure('aes256-sha256-modp2048-aes1280', 'ike');
    expect(e).toBeInstanceOf(ProposalSyntaxError);
    expect(e).toBeInstanceOf(Error);
    expect(e.reason).toBe("unknown algorithm 'aes1280'");
    expect(e.position).toBe(23);
    expect(e.text).toBe('aes256-sha256-modp2048-aes1280');
    expect(e.message).toContain("unknown algorithm 'aes1280'");
  });

  it('reports the position of the keyword itself, past any whitespace', () => {
    expect(failure('aes128 -  bogus', 'esp').position).toBe(10);
  });

  it('refuses AEAD and classic ciphers in one proposal, at the later of the two', () => {
    const e = failure('aes128-sha256-aes128gcm16-modp2048', 'ike');
    expect(e.position).toBe(14);
    expect(e.reason).toMatch(/AEAD 'aes128gcm16' and classic 'aes128'/);
    expect(failure('aes128gcm16-aes256', 'esp').position).toBe(12);
  });

  it('refuses empty keywords and empty proposals', () => {
    expect(failure('aes128--sha256', 'esp').position).toBe(7);
    expect(failure('aes128-sha256-', 'esp').position).toBe(14);
    expect(failure('-aes128-sha256', 'esp').position).toBe(0);
    expect(failure('', 'esp').reason).toBe('empty proposal');
    expect(failure('   ', 'ike').reason).toBe('empty proposal');
  });

  it.each(['sha256_96', 'serpent256', 'ntru128', 'kyber3', 'ke1_ecp256', 'chacha20poly1305compat', 'prfcamelliaxcbc'])(
    'says %s is a strongSwan extension without an IANA number',
    (kw) => {
      const e = failure(`aes128-sha256-${kw}`, 'esp');
      expect(e.reason).toMatch(/without an IANA IKEv2 transform ID/);
      expect(e.position).toBe(14);
    },
  );
});

describe('formatProposal', () => {
  it.each([
    ['ike', 'aes-sha-modp2048', 'aes128-sha1-prfsha1-modp2048'],
    ['ike', 'aes256gcm128-sha384-curve25519', 'aes256gcm16-prfsha384-x25519'],
    ['ike', 'aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-modp3072', 'aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-modp3072'],
    ['esp', 'aes128gcm-noesn', 'aes128gcm16'],
    ['esp', 'aes256-sha2_512-modp2048-modpnone-esn', 'aes256-sha512-modp2048-none-esn'],
    ['esp', 'chacha20poly1305-x25519-esn-noesn', 'chacha20poly1305-x25519-esn-noesn'],
  ] as const)('%s %s prints as %s', (protocol, input, expected) => {
    expect(formatProposal(parsed(input, protocol), protocol)).toBe(expected);
  });

  it('prints algorithms without a keyword in strongSwan style UNKNOWN_<type>_<id>', () => {
    const set: AlgorithmSet = { encryption: [{ id: EncrId.ENCR_RC5 }], integrity: [IntegId.AUTH_DES_MAC], prf: [], dh: [], esn: [] };
    expect(formatProposal(set, 'esp')).toBe('UNKNOWN_1_4-UNKNOWN_3_3');
  });

  const classic = ['aes128', 'aes192', 'aes256', 'aes128ctr', '3des', 'camellia256', 'cast128', 'blowfish192'];
  const aead = ['aes128gcm16', 'aes256gcm16', 'aes192gcm12', 'aes128ccm8', 'chacha20poly1305', 'aes256gmac', 'camellia128ccm12'];
  const integ = ['sha1', 'sha256', 'sha384', 'sha512', 'aesxcbc', 'aescmac', 'md5', 'sha1_160', 'md5_128'];
  const prf = ['prfsha1', 'prfsha256', 'prfsha384', 'prfsha512', 'prfaesxcbc', 'prfaescmac', 'prfmd5'];
  const groups = ['modp2048', 'modp3072', 'ecp256', 'ecp384', 'ecp521', 'x25519', 'x448', 'ecp256bp', 'modp1024s160'];
  const nonEmpty = (words: string[]) => fc.uniqueArray(fc.constantFrom(...words), { minLength: 1, maxLength: 4 });

  it('round-trips: parse(format(parse(x))) equals parse(x) for IKE proposals', () => {
    const text = fc
      .record({ aead: fc.boolean(), c: nonEmpty(classic), a: nonEmpty(aead), i: nonEmpty(integ), p: fc.uniqueArray(fc.constantFrom(...prf), { maxLength: 3 }), g: nonEmpty(groups) })
      .map((r) => (r.aead ? [...r.a, ...r.p, ...(r.p.length === 0 ? r.i : []), ...r.g] : [...r.c, ...r.i, ...r.p, ...r.g]).join('-'));
    fc.assert(
      fc.property(text, (t) => {
        const set = parsed(t, 'ike');
        const formatted = formatProposal(set, 'ike');
        expect(parsed(formatted, 'ike')).toEqual(set);
        expect(formatProposal(parsed(formatted, 'ike'), 'ike')).toBe(formatted);
      }),
    );
  });

  it('round-trips ESP proposals', () => {
    const text = fc
      .record({
        aead: fc.boolean(),
        c: nonEmpty(classic),
        a: nonEmpty(aead),
        i: nonEmpty(integ),
        g: fc.uniqueArray(fc.constantFrom(...groups, 'none'), { maxLength: 3 }),
        e: fc.uniqueArray(fc.constantFrom('esn', 'noesn'), { maxLength: 2 }),
      })
      .map((r) => [...(r.aead ? r.a : [...r.c, ...r.i]), ...r.g, ...r.e].join('-'));
    fc.assert(
      fc.property(text, (t) => {
        const set = parsed(t, 'esp');
        expect(parsed(formatProposal(set, 'esp'), 'esp')).toEqual(set);
      }),
    );
  });
});

describe('parseProposalList', () => {
  it('splits on commas, keeping order', () => {
    const r = parseProposalList('aes256-sha256-modp2048, aes128gcm16-prfsha256-ecp256', 'ike');
    expect(r.ok && r.value.map((s) => formatProposal(s, 'ike'))).toEqual([
      'aes256-sha256-prfsha256-modp2048',
      'aes128gcm16-prfsha256-ecp256',
    ]);
  });

  it("accepts ipsec.conf's trailing strict flag", () => {
    const r = parseProposalList('aes256-sha256-modp2048!', 'ike');
    expect(r.ok && r.value).toEqual([parsed('aes256-sha256-modp2048', 'ike')]);
  });

  it('expands default', () => {
    const r = parseProposalList('aes256-sha256-modp2048,default', 'esp');
    expect(r.ok && r.value.length).toBe(1 + DEFAULT_PROPOSALS.esp.length);
    for (const protocol of ['ike', 'esp'] as const) {
      for (const line of DEFAULT_PROPOSALS[protocol]) expect(parseProposal(line, protocol).ok).toBe(true);
    }
  });

  it('reports positions in the whole list', () => {
    const r = parseProposalList('aes256-sha256-modp2048,aes128-bogus', 'ike');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.position).toBe(30);
      expect(r.error.text).toBe('aes256-sha256-modp2048,aes128-bogus');
    }
    const empty = parseProposalList('aes256-sha256-modp2048,,', 'ike');
    expect(!empty.ok && empty.error.position).toBe(23);
  });
});
