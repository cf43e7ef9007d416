/**
 * The machines whose charts `npm run viz` draws into visualizations/, each built from inert ports:
 * the definition does not depend on what the ports do.
 */
import type { AnyStateMachine } from 'xstate';
import type { LayoutDirection } from './chart-layout.js';
import { createChildSaLogic } from '../../machines/ikev2/child-sa.js';
import { createIkeSaLogic } from '../../machines/ikev2/ike-sa.js';
import { createSupervisorLogic } from '../../machines/supervisor/supervisor.js';
import { inertPorts } from './inert-ports.js';

export interface MachineChart {
  /** The file in visualizations/. */
  readonly file: string;
  /** The chart's heading and the SVG's title. */
  readonly title: string;
  readonly machine: AnyStateMachine;
  readonly direction: LayoutDirection;
}

export function machineCharts(): MachineChart[] {
  const ports = inertPorts();
  const ikeSaLogic = createIkeSaLogic(ports);
  return [
    { file: 'supervisor.svg', title: 'Supervisor (machines/supervisor/supervisor.ts)', machine: createSupervisorLogic({ ports, ikeSaLogic }), direction: 'RIGHT' },
    { file: 'ike-sa.svg', title: 'IKE SA, phase 1 (machines/ikev2/ike-sa.ts)', machine: ikeSaLogic, direction: 'DOWN' },
    { file: 'child-sa.svg', title: 'Child SA, phase 2 (machines/ikev2/child-sa.ts)', machine: createChildSaLogic(ports), direction: 'DOWN' },
  ];
}
