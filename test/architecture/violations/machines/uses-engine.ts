// A machine that reaches up into the engine: the layer rules must reject it.
import { engineThing } from '../src/engine/engine-thing.js';

export const machineThing = engineThing + 1;
