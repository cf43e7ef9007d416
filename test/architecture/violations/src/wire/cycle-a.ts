// Half of an import cycle: the layer rules must reject it.
import { b } from './cycle-b.js';

export const a = (): number => b() + 1;
