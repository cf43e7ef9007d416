/**
 * A file meant to replace a running configuration (`reload: true`) without a single connection
 * is refused unless it says `connections: {}`: an empty file, a file cut before its connections
 * or after `connections:` is what a half-written file looks like, and would delete every tunnel.
 * At start the same file is a daemon that waits (a warning).
 */
import { describe, expect, it } from 'vitest';
import { BASE, load, report } from './support.js';

const REFUSED = 'no connections are defined: reload refused, as an empty or half-written file would delete every tunnel; write connections: {} to mean it';
const onReload = (text: string): string[] => report(text, { reload: true });

describe('a reload without connections', () => {
  it('an empty file, or one with only comments or blank lines, is refused', () => {
    for (const text of ['', '\n\n', '# ikekm\n', '   \n']) expect(onReload(text)).toEqual([`ikekm.yaml:1:1: error: ${REFUSED}`]);
  });

  it('a file cut after `connections:` or before the section is refused', () => {
    const cut = BASE.indexOf('  to-hq:');
    expect(onReload(BASE.slice(0, cut))).toEqual([
      'ikekm.yaml:2:3: warning: ikePolicies.hq-ike: not used by any connection',
      'ikekm.yaml:6:3: warning: dataPolicies.hq-data: not used by any connection',
      `ikekm.yaml:9:1: error: connections: ${REFUSED}`,
    ]);
    expect(onReload(BASE.slice(0, BASE.indexOf('connections:')))).toContain(`ikekm.yaml:1:1: error: ${REFUSED}`);
  });

  it('`connections: {}` says it: accepted, with the warning of a daemon without connections', () => {
    const r = load('connections: {}\n', { reload: true });
    expect(r.ok && r.value.engine.connections).toEqual([]);
    expect(onReload('connections: {}\n')).toEqual(['ikekm.yaml:1:1: warning: connections: no connections are defined; the daemon will start and wait']);
  });

  it('a file with connections is not affected', () => {
    expect(onReload(BASE)).toEqual([]);
  });

  it('at start, the same files load as a daemon that waits', () => {
    expect(load('').ok).toBe(true);
    expect(load('connections:\n').ok).toBe(true);
  });
});
