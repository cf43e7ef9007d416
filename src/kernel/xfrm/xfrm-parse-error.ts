/**
 * The one error type of the XFRM netlink decoders. Bytes read from a netlink socket come from the
 * kernel, but a decoder that throws on a message it did not expect (a newer kernel, a truncated
 * read, a bug in the socket layer) would take the key manager down with it; so every public
 * decoder returns this error inside a `Result` and never throws it.
 *
 * Internally the struct readers throw it (`requireBytes`), so deep decoders stay linear;
 * `catchXfrmParseError` is the public boundary that turns it back into a value and lets anything
 * else (a bug) propagate.
 */
import { err, ok, type Result } from '../../result.js';

export type XfrmParseErrorCode =
  /** A struct or header would end past the bytes there are. */
  | 'truncated'
  /** struct nlmsghdr: nlmsg_len is below the header's 16 octets or beyond the buffer (linux/netlink.h). */
  | 'bad-message-length'
  /** struct nlattr: nla_len is below the attribute header's 4 octets or beyond its container. */
  | 'bad-attribute-length'
  /** A field holds a value the decoder has no meaning for (an address family, a mode, a direction). */
  | 'bad-value'
  /** The message type is not the one the decoder was asked to read. */
  | 'unexpected-message';

export interface XfrmParseErrorInit {
  readonly code: XfrmParseErrorCode;
  /** Absolute offset, from the start of the buffer given to `decodeNetlinkMessages`. */
  readonly offset: number;
  /** What was being decoded: a C struct name from linux/xfrm.h or linux/netlink.h, or an attribute name. */
  readonly what: string;
  readonly reason: string;
}

export class XfrmParseError extends Error {
  readonly code: XfrmParseErrorCode;
  readonly offset: number;
  readonly what: string;
  readonly reason: string;

  constructor(init: XfrmParseErrorInit) {
    super(`${init.what}: ${init.reason} (${init.code}, offset ${init.offset})`);
    this.name = 'XfrmParseError';
    this.code = init.code;
    this.offset = init.offset;
    this.what = init.what;
    this.reason = init.reason;
  }
}

/**
 * Throws 'truncated' unless `length` octets are there at `at` in `buffer`; `base` is the absolute
 * offset of `buffer[0]`, so the error names the offset in the whole datagram.
 */
export function requireBytes(buffer: Buffer, at: number, length: number, what: string, base: number): void {
  if (at + length > buffer.length) {
    throw new XfrmParseError({
      code: 'truncated',
      offset: base + at,
      what,
      reason: `needs ${length} octets, ${Math.max(0, buffer.length - at)} left`,
    });
  }
}

/** The public boundary of every decoder (see the module comment). */
export function catchXfrmParseError<T>(decode: () => T): Result<T, XfrmParseError> {
  try {
    return ok(decode());
  } catch (e) {
    if (e instanceof XfrmParseError) return err(e);
    throw e;
  }
}
