/**
 * The ECP and Curve25519 groups keep the OpenSSL context they made for a key pair, so that the
 * shared secret does not cost a second scalar multiplication (ECP: setPrivateKey) or a second key
 * import (X25519). That only pays if the pair the IKE SA keeps between its request and the
 * response is the very object the group handed out, which the groups make possible by handing
 * out pairs already redacted (nothing needs to re-wrap them). These tests count the OpenSSL
 * contexts made, through spies on node:crypto.
 */
import * as nodeCrypto from 'node:crypto';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { curve25519 } from '../../src/crypto/dh/curve25519.js';
import { ecp256, ecp384, ecp521 } from '../../src/crypto/dh/ecp.js';
import { modp2048 } from '../../src/crypto/dh/modp.js';
import { REDACTED } from '../../src/crypto/redacted.js';
import type { DhGroup, DhKeyPair, RandomPort } from '../../src/crypto/types.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, createECDH: vi.fn(actual.createECDH), createPrivateKey: vi.fn(actual.createPrivateKey) };
});

const createECDH = vi.mocked(nodeCrypto.createECDH);
const createPrivateKey = vi.mocked(nodeCrypto.createPrivateKey);
const random: RandomPort = (n) => nodeCrypto.randomBytes(n);

function secretOf(group: DhGroup, own: DhKeyPair, peer: Uint8Array): Buffer {
  const result = group.computeSharedSecret(own, peer);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** The context-making call each group caches: ECDH for ECP, the private KeyObject for X25519. */
const CASES = [
  { group: ecp256, contexts: createECDH },
  { group: ecp384, contexts: createECDH },
  { group: ecp521, contexts: createECDH },
  { group: curve25519, contexts: createPrivateKey },
] as const;

beforeEach(() => {
  createECDH.mockClear();
  createPrivateKey.mockClear();
});

describe.each(CASES.map((c) => [c.group.name, c] as const))('%s', (_name, { group, contexts }) => {
  it('the pair as the group handed it out derives the secret without a new OpenSSL context', () => {
    const peer = group.generateKeyPair(random);
    contexts.mockClear();
    const own = group.generateKeyPair(random);
    const made = contexts.mock.calls.length;
    expect(made).toBeGreaterThan(0);

    const secret = secretOf(group, own, peer.publicValue);

    expect(contexts.mock.calls.length).toBe(made);
    expect(secret).toEqual(secretOf(group, peer, own.publicValue));
  });

  it('a pair rebuilt from its fields (a replay) gets a context of its own and the same secret', () => {
    const own = group.generateKeyPair(random);
    const peer = group.generateKeyPair(random);
    const expected = secretOf(group, own, peer.publicValue);
    contexts.mockClear();

    const rebuilt: DhKeyPair = { group: own.group, privateKey: Buffer.from(own.privateKey), publicValue: Buffer.from(own.publicValue) };
    expect(secretOf(group, rebuilt, peer.publicValue)).toEqual(expected);
    expect(contexts.mock.calls.length).toBeGreaterThan(0);
  });
});

describe('key pairs as the groups hand them out', () => {
  it.each([ecp256, curve25519, modp2048].map((g) => [g.name, g] as const))('%s: frozen and printed as "[redacted]"', (_name, group) => {
    const pair = group.generateKeyPair(random);
    expect(Object.isFrozen(pair)).toBe(true);
    expect(JSON.stringify({ pair })).toBe(`{"pair":"${REDACTED}"}`);
    expect(inspect(pair)).toBe(REDACTED);
  });
});
