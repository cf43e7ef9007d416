/**
 * The daemon lab's settings, shared by the guest drivers and their host-side tests (a test must
 * not import a guest driver: importing it would run it).
 */
import { join } from 'node:path';
import type { Lab } from '../interop/harness/netns.js';

export const PSK = 'ikekm-kernel-vm-psk';
export const IKE_PROPOSAL = 'aes256gcm16-prfsha384-ecp384';
export const ESP_PROPOSAL = 'aes128gcm16';
/** The byte-lifetime step's data policy, in kilobytes (1024 octets). */
export const KILOBYTES = 200;

type Start = 'listen' | 'on-load' | 'on-demand';

/**
 * ikekm's YAML for side `self` of `lab` (a unless said): one connection `lab` to the other side,
 * control socket in `dir`.
 */
export function ikekmYaml(
  lab: Pick<Lab, 'a' | 'b'>,
  dir: string,
  options: { readonly start: Start; readonly kilobytes?: number; readonly self?: 'a' | 'b' },
): string {
  const me = lab[options.self ?? 'a'];
  const peer = lab[options.self === 'b' ? 'a' : 'b'];
  const lifetime = options.kilobytes === undefined ? '60m' : `{ time: 60m, kilobytes: ${options.kilobytes} }`;
  return [
    'daemon:',
    `  listen: [${me.outer4}]`,
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(join(dir, 'ikekm.sock'))}`,
    '  kernel: xfrm',
    'ikePolicies:',
    `  lab-ike: { version: 2, auth: psk, proposals: [${IKE_PROPOSAL}], lifetime: 24h }`,
    'dataPolicies:',
    `  lab-data: { protocol: esp, mode: tunnel, proposals: [${ESP_PROPOSAL}], lifetime: ${lifetime} }`,
    'connections:',
    '  lab:',
    '    ikePolicy: lab-ike',
    '    dataPolicy: lab-data',
    `    local: { address: ${me.outer4}, id: ${me.outer4}, psk: ${JSON.stringify(PSK)} }`,
    `    remote: { address: ${peer.outer4}, id: ${peer.outer4} }`,
    `    traffic: { local: [${me.inner4}/32], remote: [${peer.inner4}/32] }`,
    `    start: ${options.start}`,
    '',
  ].join('\n');
}
