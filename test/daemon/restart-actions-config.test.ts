/**
 * `dpdAction` and `closeAction` in the YAML (strongSwan's dpd_action and close_action): parsed,
 * defaulted by the start action (model.ts restartActions), refused where they cannot work.
 */
import { describe, expect, it } from 'vitest';
import { restartActions } from '../../src/config/model.js';
import { BASE, loaded, report } from '../config/support.js';

const withStart = (lines: string): string => BASE.replace('    start: on-load\n', `${lines}\n`);

describe('dpdAction and closeAction', () => {
  it('default by start action: on-load restarts, on-demand leaves it to the trap, listen waits', () => {
    const actions = (start: string) => restartActions(loaded(withStart(`    start: ${start}`)).engine.connections[0]!);
    expect(actions('on-load')).toEqual({ dpd: 'restart', close: 'start' });
    expect(actions('on-demand')).toEqual({ dpd: 'trap', close: 'trap' });
    expect(actions('listen')).toEqual({ dpd: 'clear', close: 'none' });
  });

  it('are read as written', () => {
    const c = loaded(withStart('    start: on-load\n    dpdAction: clear\n    closeAction: none')).engine.connections[0]!;
    expect(c).toMatchObject({ dpdAction: 'clear', closeAction: 'none' });
    expect(restartActions(c)).toEqual({ dpd: 'clear', close: 'none' });
    const listen = loaded(withStart('    start: listen\n    dpdAction: restart\n    closeAction: start')).engine.connections[0]!;
    expect(restartActions(listen)).toEqual({ dpd: 'restart', close: 'start' });
  });

  it('refuses unknown values, trap without a trap, and restarts towards %any', () => {
    expect(report(withStart('    start: on-load\n    dpdAction: hold'))).toEqual([
      expect.stringContaining("dpdAction 'hold' is not allowed; allowed: clear, restart, trap"),
    ]);
    expect(report(withStart('    start: on-load\n    closeAction: trap'))).toEqual([
      expect.stringContaining("closeAction 'trap' needs the trap of start: on-demand (this connection is start: on-load)"),
    ]);
    const anyRemote = withStart('    start: listen\n    dpdAction: restart').replace('address: 192.0.2.2', 'address: "%any"');
    expect(report(anyRemote)).toEqual([expect.stringContaining("dpdAction 'restart' needs a remote address to initiate to")]);
  });
});

describe('Child SA limits per IKE SA in daemon.limits', () => {
  it('are read over the defaults', () => {
    const c = loaded(`daemon: { limits: { maxChildSasPerIkeSa: 8, maxNewChildSasPerMinute: 4 } }\n${BASE}`);
    expect(c.engine.settings).toMatchObject({ maxChildSasPerIkeSa: 8, maxNewChildSasPerMinute: 4 });
    expect(loaded(BASE).engine.settings).toMatchObject({ maxChildSasPerIkeSa: 100, maxNewChildSasPerMinute: 30 });
  });
});
