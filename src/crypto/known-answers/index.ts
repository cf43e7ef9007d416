/** Every known-answer case ikekm has, in the order `ikekm selfcheck` prints them. */
import { cryptoRegistry } from '../registry.js';
import { derivationKnownAnswerCases } from './derivation.js';
import { transformKnownAnswers } from './transforms.js';
import type { KnownAnswerCase } from './types.js';

export const allKnownAnswers: readonly KnownAnswerCase[] = Object.freeze([
  ...transformKnownAnswers,
  ...derivationKnownAnswerCases(cryptoRegistry),
]);
