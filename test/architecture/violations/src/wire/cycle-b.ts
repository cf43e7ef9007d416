// The other half of the cycle.
import { a } from './cycle-a.js';

export const b = (): number => (a.length > 0 ? 0 : 1);
