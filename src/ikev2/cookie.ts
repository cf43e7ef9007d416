/**
 * Stateless cookies against IKE_SA_INIT floods (RFC 7296 2.6):
 *
 *   Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)
 *
 * VersionIDofSecret is 4 octets (big endian); Hash is SHA-256 (the hash is a local choice, 2.6),
 * so a cookie is 36 octets, inside the 1..64 the COOKIE notification allows. The secret is 32
 * octets drawn through the RandomPort, so a record of the draws reproduces every cookie.
 *
 * Rotation (2.6: the responder "should change the value of <secret> frequently"): a secret is
 * current for `rotateEveryMs`; after that a new one is drawn on the next use and the old one stays
 * valid for one more period as `previous`, so a cookie handed out just before a rotation still
 * works when the initiator comes back with it. A cookie therefore verifies for at least one and at
 * most two periods. Time comes from the injected `now` (virtual in tests).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RandomPort } from '../crypto/types.js';
import { parseIp } from '../wire/ip-address.js';

export interface CookieSecretPort {
  current(): { version: number; secret: Buffer };
  previous(): { version: number; secret: Buffer } | undefined;
}

export interface CookieGenerator {
  cookie(Ni: Buffer, IPi: string, SPIi: Buffer): Buffer;
  verify(cookie: Buffer, Ni: Buffer, IPi: string, SPIi: Buffer): boolean;
}

export interface CookieSecretOptions {
  readonly random: RandomPort;
  readonly now: () => number;
  /** How long a secret is current; default 60 s. */
  readonly rotateEveryMs?: number;
}

const VERSION_LENGTH = 4;
const SECRET_LENGTH = 32;
const HASH_LENGTH = 32;
export const COOKIE_LENGTH = VERSION_LENGTH + HASH_LENGTH;
export const DEFAULT_COOKIE_ROTATION_MS = 60_000;

/** Secrets that rotate lazily on use: the first is drawn at the first call, not at creation. */
export function createCookieSecrets(opts: CookieSecretOptions): CookieSecretPort {
  const period = opts.rotateEveryMs ?? DEFAULT_COOKIE_ROTATION_MS;
  if (!(period > 0)) throw new RangeError(`rotateEveryMs must be positive, not ${period}`);
  let current: { version: number; secret: Buffer; since: number } | undefined;
  let previous: { version: number; secret: Buffer } | undefined;

  const draw = (version: number, since: number) => {
    const secret = opts.random(SECRET_LENGTH);
    if (secret.length !== SECRET_LENGTH) throw new RangeError(`RandomPort gave ${secret.length} octets, not ${SECRET_LENGTH}`);
    return { version, secret: Buffer.from(secret), since };
  };
  const refresh = () => {
    const now = opts.now();
    if (current === undefined) {
      current = draw(1, now);
      return;
    }
    const age = now - current.since;
    if (age < period) return;
    // The outgoing secret stays valid for one period after it stopped being current; if that
    // period has passed too (no use for two periods), it is dropped.
    previous = age < 2 * period ? { version: current.version, secret: current.secret } : undefined;
    current = draw((current.version + 1) >>> 0, now);
  };
  return {
    current() {
      refresh();
      return { version: current!.version, secret: current!.secret };
    },
    previous() {
      refresh();
      return previous;
    },
  };
}

function compute(version: number, secret: Buffer, Ni: Buffer, IPi: string, SPIi: Buffer): Buffer {
  const ip = parseIp(IPi);
  if (ip === undefined) throw new RangeError(`not an IP address: ${IPi}`);
  const out = Buffer.alloc(COOKIE_LENGTH);
  out.writeUInt32BE(version >>> 0, 0);
  createHash('sha256').update(Ni).update(ip).update(SPIi).update(secret).digest().copy(out, VERSION_LENGTH);
  return out;
}

/**
 * A cookie generator. With `random`/`now` it keeps its own rotating secrets (createCookieSecrets);
 * with `secrets` it uses the caller's CookieSecretPort (rotation handled there).
 */
export function createCookieGenerator(opts: CookieSecretOptions | { readonly secrets: CookieSecretPort }): CookieGenerator {
  const secrets = 'secrets' in opts ? opts.secrets : createCookieSecrets(opts);
  return {
    cookie(Ni, IPi, SPIi) {
      const { version, secret } = secrets.current();
      return compute(version, secret, Ni, IPi, SPIi);
    },
    verify(cookie, Ni, IPi, SPIi) {
      if (cookie.length !== COOKIE_LENGTH || parseIp(IPi) === undefined) return false;
      const version = cookie.readUInt32BE(0);
      const current = secrets.current();
      const previous = secrets.previous();
      const secret = current.version === version ? current.secret : previous?.version === version ? previous.secret : undefined;
      if (secret === undefined) return false;
      return timingSafeEqual(compute(version, secret, Ni, IPi, SPIi), cookie);
    },
  };
}
