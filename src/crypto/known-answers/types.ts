/**
 * A known-answer check: one published vector run through ikekm's own implementation.
 * The same cases back the test suite (test/crypto) and the `ikekm selfcheck` table, so the
 * table a user sees is exactly what the tests assert.
 */
export interface KnownAnswerCase {
  /** What is checked, e.g. "PRF_HMAC_SHA2_256" or "DH group 19 (ECP_256)". */
  readonly algorithm: string;
  /** Where the vector comes from, e.g. "RFC 4231 4.3 (test case 2)". */
  readonly source: string;
  /** Runs the vector; `detail` says what differed when it fails. Must not throw. */
  run(): KnownAnswerOutcome;
}

export interface KnownAnswerOutcome {
  readonly ok: boolean;
  readonly detail?: string;
}
