/**
 * Finds a pair of UDP ports (IKE, NAT-T) free on every demo address, so `npm start` works
 * while another demo or anything else holds the defaults. The probe binds and closes at once:
 * someone could take a port between the probe and the daemon's bind, in which case the daemon's
 * own bind error is reported.
 */
import { createSocket } from 'node:dgram';
import type { DemoPorts } from './demo-config.js';

function udpPortFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4' });
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/**
 * The first pair `{ ike: first.ike + k, natt: first.natt + k }` (k = 0, 1, ...) free on all
 * addresses, or undefined after `attempts` pairs.
 */
export async function pickDemoPorts(addresses: readonly string[], first: DemoPorts, attempts = 50): Promise<DemoPorts | undefined> {
  for (let k = 0; k < attempts; k++) {
    const candidate = { ike: first.ike + k, natt: first.natt + k };
    let free = true;
    for (const address of addresses) {
      if (!(await udpPortFree(address, candidate.ike)) || !(await udpPortFree(address, candidate.natt))) {
        free = false;
        break;
      }
    }
    if (free) return candidate;
  }
  return undefined;
}
