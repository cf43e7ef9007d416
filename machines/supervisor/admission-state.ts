/** What admission (admission.ts) remembers between datagrams, kept in the supervisor's context. */
import { AuthBackoff } from './auth-backoff.js';
import { TokenBucket } from './token-bucket.js';

/** strongSwan's COOKIE_CALMDOWN_DELAY: cookies stay on this long after a threshold was last reached. */
export const COOKIE_CALMDOWN_MS = 10_000;
/** Per-address calm-down times are kept in this many buckets by address hash (charon: 32). */
export const CALMDOWN_BUCKETS = 32;

export class AdmissionState {
  /** The daemon is stopping: no new IKE SA of any kind. */
  refusingNewSas = false;
  readonly rate = new TokenBucket();
  readonly invalidSpiAnswers = new TokenBucket();
  readonly authBackoff = new AuthBackoff();
  lastGlobalThresholdMs: number | undefined;
  readonly lastAddressThresholdMs: (number | undefined)[] = new Array<number | undefined>(CALMDOWN_BUCKETS).fill(undefined);
}
