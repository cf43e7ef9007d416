/**
 * The declarative shape of IKEv2 messages: which payloads a request or response of an exchange
 * must carry, may carry, or may repeat (RFC 7296 1.2-1.5 and 3). Each exchange module
 * (ike-sa-init.ts, ike-auth.ts, create-child-sa.ts, informational.ts) writes its messages down as
 * `MessageRule`s; `checkMessage` turns a decoded payload list into a typed record of those
 * payloads, or says which rule it broke (answered with INVALID_SYNTAX, RFC 7296 2.21).
 *
 * Always allowed, in every message: Notify payloads (status types "MAY be added to any message",
 * 3.10.1; error types are looked at by the exchange) and Vendor ID payloads (3.12). Unknown
 * payloads never reach here: critical ones are rejected with UNSUPPORTED_CRITICAL_PAYLOAD
 * before (2.5), the rest are ignored.
 */
import {
  ExchangeType,
  PayloadType,
  isNotifyError,
  isUnknownPayload,
  nameOf,
  type KnownPayload,
  type NotifyPayload,
  type Payload,
  type PayloadOf,
} from '../../wire/index.js';
import { err, ok, type Result } from '../../result.js';

/** How often a payload appears in a message. */
export type Presence =
  /** exactly once */
  | 'required'
  /** zero or one time */
  | 'optional'
  /** zero or more times */
  | 'repeated';

/** Payloads named as RFC 7296 3.2 names them. N and V are implicitly 'repeated' everywhere. */
export type RuledPayloadName = 'SA' | 'KE' | 'IDi' | 'IDr' | 'CERT' | 'CERTREQ' | 'AUTH' | 'Nonce' | 'D' | 'TSi' | 'TSr' | 'CP' | 'EAP';

export type PayloadRules = { readonly [K in RuledPayloadName]?: Presence };

/** What a Notify means in a given message, for the reader (and for status pages). */
export interface NotifyRule {
  readonly notify: string;
  readonly meaning: string;
}

export interface MessageRule {
  /** e.g. "IKE_SA_INIT request". */
  readonly name: string;
  /** Where the RFC defines it. */
  readonly rfc: string;
  readonly exchangeType: ExchangeType;
  readonly response: boolean;
  /** Inner payloads protected by SK (RFC 7296 3.14): every exchange after IKE_SA_INIT. */
  readonly encrypted: boolean;
  readonly payloads: PayloadRules;
  /** Notifies this message can carry that ikekm sends or acts upon. */
  readonly notifies: readonly NotifyRule[];
}

/** A message checked against a rule: each ruled payload typed by its presence, plus all notifies. */
export type CheckedPayloads<R extends PayloadRules> = {
  readonly [K in keyof R & RuledPayloadName]: R[K] extends 'required'
    ? PayloadOf<(typeof PayloadType)[K]>
    : R[K] extends 'optional'
      ? PayloadOf<(typeof PayloadType)[K]> | undefined
      : readonly PayloadOf<(typeof PayloadType)[K]>[];
} & { readonly N: readonly NotifyPayload[] };

export type MessageRuleViolation =
  | { readonly kind: 'missing'; readonly rule: string; readonly payload: RuledPayloadName }
  | { readonly kind: 'duplicate'; readonly rule: string; readonly payload: RuledPayloadName; readonly count: number }
  | { readonly kind: 'unexpected'; readonly rule: string; readonly payload: string };

export function describeViolation(v: MessageRuleViolation): string {
  switch (v.kind) {
    case 'missing':
      return `${v.rule}: required payload ${v.payload} is missing`;
    case 'duplicate':
      return `${v.rule}: payload ${v.payload} appears ${v.count} times, at most once allowed`;
    case 'unexpected':
      return `${v.rule}: payload ${v.payload} is not allowed here`;
  }
}

const ALWAYS_ALLOWED: ReadonlySet<number> = new Set([PayloadType.N, PayloadType.V]);

/**
 * Checks `payloads` (the outer chain for IKE_SA_INIT, the decrypted inner chain otherwise)
 * against `rule`. Order is not checked: RFC 7296 3.2 leaves payload order free except where
 * stated, and the stated cases (COOKIE first, SK last) are checked where they matter.
 */
export function checkMessage<R extends MessageRule>(
  rule: R,
  payloads: readonly Payload[],
): Result<CheckedPayloads<R['payloads']>, MessageRuleViolation> {
  const groups = new Map<number, KnownPayload[]>();
  for (const p of payloads) {
    if (isUnknownPayload(p)) continue;
    let list = groups.get(p.type);
    if (list === undefined) groups.set(p.type, (list = []));
    list.push(p);
  }
  const out: Record<string, unknown> = { N: groups.get(PayloadType.N) ?? [] };
  const ruled = new Set<number>(ALWAYS_ALLOWED);
  for (const [name, presence] of Object.entries(rule.payloads) as [RuledPayloadName, Presence][]) {
    const type = PayloadType[name];
    ruled.add(type);
    const found = groups.get(type) ?? [];
    switch (presence) {
      case 'required':
        if (found.length === 0) return err({ kind: 'missing', rule: rule.name, payload: name });
        if (found.length > 1) return err({ kind: 'duplicate', rule: rule.name, payload: name, count: found.length });
        out[name] = found[0];
        break;
      case 'optional':
        if (found.length > 1) return err({ kind: 'duplicate', rule: rule.name, payload: name, count: found.length });
        out[name] = found[0];
        break;
      case 'repeated':
        out[name] = found;
        break;
    }
  }
  for (const type of groups.keys()) {
    if (!ruled.has(type)) return err({ kind: 'unexpected', rule: rule.name, payload: nameOf(PayloadType, type) });
  }
  return ok(out as CheckedPayloads<R['payloads']>);
}

/** The first Error-type Notify (RFC 7296 3.10.1: types below 16384), if any. */
export function firstErrorNotify(payloads: readonly Payload[]): NotifyPayload | undefined {
  for (const p of payloads) {
    if (!isUnknownPayload(p) && p.type === PayloadType.N && isNotifyError(p.notifyType)) return p;
  }
  return undefined;
}

/** Every Notify of a type. */
export function notifiesOf(payloads: readonly Payload[], notifyType: number): NotifyPayload[] {
  const out: NotifyPayload[] = [];
  for (const p of payloads) if (!isUnknownPayload(p) && p.type === PayloadType.N && p.notifyType === notifyType) out.push(p);
  return out;
}

export function hasNotify(payloads: readonly Payload[], notifyType: number): boolean {
  return notifiesOf(payloads, notifyType).length > 0;
}

/** Exchange names for logs. */
export function exchangeName(exchangeType: number): string {
  return nameOf(ExchangeType, exchangeType);
}
