/**
 * Objects that hold key material print as "[redacted]": they carry a `toJSON()` (and a Node
 * inspect hook) answering that, so an accidental `log.info({ keys })` or `console.log(pair)`
 * shows nothing useful, while the Buffers inside stay reachable by property access for the code
 * that needs them. Used for IKE and Child SA key sets, SK protections and DH key pairs.
 */

export const REDACTED = '[redacted]';
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** Implemented by every object that holds key material. */
export interface Redacted {
  /** Always "[redacted]": JSON loggers (pino) call this instead of dumping the Buffers. */
  toJSON(): string;
}

/** The one hook every redacted object shares: a closure per object would cost memory per SA. */
const answerRedacted = (): string => REDACTED;

/** The objects `redacted` has wrapped, so `isRedacted` can tell them from look-alikes. */
const wrapped = new WeakSet<object>();

/**
 * Adds non-enumerable `toJSON` and `util.inspect` hooks that hide the contents, and freezes the
 * object (the Buffers inside stay writable so a caller can zero them when the SA is deleted).
 * Non-enumerable so that equality checks in tests compare only the keys.
 */
export function redacted<T extends object>(value: T): T & Redacted {
  Object.defineProperty(value, 'toJSON', { value: answerRedacted, enumerable: false });
  Object.defineProperty(value, inspectCustom, { value: answerRedacted, enumerable: false });
  wrapped.add(value);
  return Object.freeze(value) as T & Redacted;
}

/** Whether `value` came out of `redacted` (and so needs no second wrapping). */
export function isRedacted<T extends object>(value: T): value is T & Redacted {
  return wrapped.has(value);
}
