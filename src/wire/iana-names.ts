/**
 * The names of the IANA numbers a person reads in a message (exchange, payload and Notify types),
 * as the registries in iana.ts and notify-types.ts spell them: one lookup for every place that
 * shows a message to a reader (the replay's divergences, the inspector page).
 */
import { ExchangeType, PayloadType } from './iana.js';
import { NotifyType } from './notify-types.js';

const byNumber = (registry: Readonly<Record<string, number>>): ReadonlyMap<number, string> => new Map(Object.entries(registry).map(([name, value]) => [value, name]));

const EXCHANGES = byNumber(ExchangeType);
const PAYLOADS = byNumber(PayloadType);
const NOTIFIES = byNumber(NotifyType);

/** `IKE_AUTH`, or `exchange N` for a number the registry here does not name. */
export const exchangeTypeName = (n: number): string => EXCHANGES.get(n) ?? `exchange ${n}`;
/** `SA`, `SK`, or `payload N`. */
export const payloadTypeName = (n: number): string => PAYLOADS.get(n) ?? `payload ${n}`;
/** `NO_PROPOSAL_CHOSEN`, or the number itself. */
export const notifyTypeName = (n: number): string => NOTIFIES.get(n) ?? String(n);
