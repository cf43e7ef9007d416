/**
 * MachinePorts for building the machines only to read their definitions: a chart is drawn from
 * the states and transitions, nothing runs, so every port refuses to be used. A machine that
 * reached one while being built would fail loudly here rather than draw from made-up values.
 */
import type { MachinePorts } from '../../machines/ports.js';

function refuse(port: string): never {
  throw new Error(`the ${port} port is not available: the machines are built only to draw their charts`);
}

/** Any property of it is a function that refuses. */
function refusingObject<T extends object>(port: string): T {
  return new Proxy({} as T, { get: (_, property) => () => refuse(`${port}.${String(property)}`) });
}

export function inertPorts(): MachinePorts {
  return {
    clock: { now: () => refuse('clock') },
    random: () => refuse('random'),
    registry: refusingObject('registry'),
    config: refusingObject('config'),
    effects: { perform: () => refuse('effects') },
    load: { utilization: () => refuse('load') },
    kernelEnforcesByteLimits: false,
    refusingNewSas: () => false,
  };
}
