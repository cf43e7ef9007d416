// A machine that depends on its own chart: the layer rules must reject it.
import { chartThing } from '../src/viz/chart-thing.js';

export const drawnThing = chartThing + 1;
