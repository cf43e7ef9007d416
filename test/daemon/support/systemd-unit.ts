/** packaging/ikekm.service as tests read it: the unit's text, its keys, its capabilities. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const UNIT = readFileSync(join(ROOT, 'packaging/ikekm.service'), 'utf8');

/** section → key → values (a key may repeat), comments and blank lines dropped. */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] ?? '', current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** The unit's CapabilityBoundingSet, sorted (`CAP_NET_ADMIN`, …): all the daemon runs with. */
export function unitCapabilities(): string[] {
  return (parseUnit(UNIT).get('Service')?.get('CapabilityBoundingSet')?.[0] ?? '')
    .split(/\s+/)
    .filter((c) => c !== '')
    .sort();
}
