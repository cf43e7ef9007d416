/**
 * Run by xfrm-kernel.test.ts inside a throw-away network namespace of this host (root): drives
 * the XFRM backend against the host kernel, which has XFRM policies and ALLOCSPI but no ESP
 * states, and prints one JSON object with what it saw. `ip` shows the kernel's side; packets
 * from the peer's side come from a second namespace, named by the first argument.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { isIkekmReqid, type KernelAcquire, type KernelPolicy, type KernelTrap } from '../../src/kernel/kernel-port.js';
import { XfrmKernel } from '../../src/kernel/xfrm-kernel.js';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const range = (start: string, end: string) => ({ ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: start, endAddress: end });
const LOCAL = range('198.51.100.0', '198.51.100.255');
const REMOTE = range('203.0.113.0', '203.0.113.255');
const REQID = 0x4b4d0001;
const PEER_NS = process.argv[2] ?? 'no peer namespace given';

const report: Record<string, unknown> = {};
const kernel = XfrmKernel.open({ ownsReqid: isIkekmReqid });
let ike: dgram.Socket | undefined;
try {
  // ALLOCSPI: a larval SA with an SPI in our range; released, it is gone.
  const spi = await kernel.spis!.allocate({ source: '192.0.2.2', destination: '192.0.2.1' });
  const larval = ip('xfrm', 'state');
  await kernel.spis!.release(spi, '192.0.2.1');
  report.spi = { spi, listed: larval.includes(`spi 0x${spi.toString(16).padStart(8, '0')}`), afterRelease: ip('xfrm', 'state') };

  // Policies in, out and fwd; then deleted.
  const policy = (direction: KernelPolicy['direction']): KernelPolicy => ({
    connection: 'lab',
    direction,
    local: LOCAL,
    remote: REMOTE,
    mode: 'tunnel',
    tunnelSource: direction === 'out' ? '192.0.2.1' : '192.0.2.2',
    tunnelDestination: direction === 'out' ? '192.0.2.2' : '192.0.2.1',
    reqid: REQID,
  });
  for (const d of ['out', 'in', 'fwd'] as const) await kernel.installPolicy(policy(d));
  const installed = ip('xfrm', 'policy');
  let again: string | undefined;
  try {
    await kernel.installPolicy(policy('out'));
  } catch (e) {
    again = (e as { code?: string }).code;
  }
  for (const d of ['out', 'in', 'fwd'] as const) await kernel.deletePolicy(policy(d));
  report.policies = { installed, again, afterDelete: ip('xfrm', 'policy') };

  // A trap: a packet to the peer's side raises an acquire naming the connection and the packet.
  const trap: KernelTrap = { connection: 'lab', local: LOCAL, remote: REMOTE, mode: 'tunnel', tunnelSource: '192.0.2.1', tunnelDestination: '192.0.2.2', reqid: REQID };
  await kernel.installTrap(trap);
  const acquires: KernelAcquire[] = [];
  const stop = kernel.onAcquire((a) => acquires.push(a));
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '198.51.100.1', () => resolve()));
  await new Promise<void>((resolve) => socket.send('x', 9, '203.0.113.1', () => resolve()));
  for (let i = 0; i < 40 && acquires.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  stop();
  socket.close();
  // The Child SA's outbound policy is the trap: deleting it leaves the trap in place.
  await kernel.deletePolicy(policy('out'));
  const trapAfterChildDelete = ip('xfrm', 'policy');
  await kernel.deleteTrap(trap);
  report.trap = { acquires, trapAfterChildDelete, afterDelete: ip('xfrm', 'policy') };

  // The IKE sockets: bypass policies and ESP-in-UDP are accepted on a bound socket. It stays
  // open, as a daemon's do, so every dump below lists its two socket policies too.
  const socket4 = dgram.createSocket('udp4');
  ike = socket4;
  await new Promise<void>((resolve) => socket4.bind(0, '192.0.2.1', () => resolve()));
  kernel.protectIkeSocket({ family: 'IPv4', address: '192.0.2.1', port: socket4.address().port, role: 'natt' });
  report.protected = ip('xfrm', 'policy').match(/\tsocket (in|out) /g)?.length ?? 0;

  // What a killed ikekm left: its reqids go, another key manager's stay.
  ip('xfrm', 'policy', 'add', 'src', '198.51.100.0/24', 'dst', '203.0.113.0/24', 'dir', 'out', 'tmpl', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'reqid', String(REQID + 4), 'mode', 'tunnel');
  ip('xfrm', 'policy', 'add', 'src', '198.51.100.0/24', 'dst', '203.0.113.0/24', 'dir', 'in', 'tmpl', 'src', '192.0.2.2', 'dst', '192.0.2.1', 'proto', 'esp', 'reqid', '7', 'mode', 'tunnel');
  ip('xfrm', 'state', 'allocspi', 'src', '192.0.2.2', 'dst', '192.0.2.1', 'proto', 'esp', 'mode', 'tunnel', 'reqid', String(REQID + 4));
  ip('xfrm', 'state', 'allocspi', 'src', '192.0.2.2', 'dst', '192.0.2.1', 'proto', 'esp', 'mode', 'tunnel', 'reqid', '7');
  report.leftovers = { removed: kernel.removeLeftovers(), policies: ip('xfrm', 'policy'), states: ip('xfrm', 'state') };

  // Last use: the kernel stamps a policy each time it checks a packet against it, even one it
  // then drops (no SA here). From the peer's namespace, a ping to us meets the in policy, one to
  // an address behind us (198.51.100.77, routed on through v2) the fwd policy. Outbound, a packet
  // that only raises an acquire stamps nothing. A reqid of its own, so this acquire's larval SA
  // holds nothing above.
  const used = (direction: KernelPolicy['direction']): KernelPolicy => ({ ...policy(direction), reqid: REQID + 8 });
  const directions = ['out', 'in', 'fwd'] as const;
  const lastUse = async (): Promise<Record<string, number | null>> =>
    Object.fromEntries(await Promise.all(directions.map(async (d) => [d, (await kernel.policyLastUse(used(d))) ?? null])));
  const peerPing = (to: string): void => {
    spawnSync('ip', ['netns', 'exec', PEER_NS, 'ping', '-c', '1', '-W', '1', '-I', '203.0.113.1', to]);
  };
  const notInstalled = (await kernel.policyLastUse(used('in'))) ?? null;
  for (const d of directions) await kernel.installPolicy(used(d));
  const unused = await lastUse();
  const firstFrom = Date.now();
  peerPing('198.51.100.1');
  peerPing('198.51.100.77');
  const first = await lastUse();
  const firstTo = Date.now();
  // The kernel counts whole seconds: the next ping comes in a later one.
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 100));
  const secondFrom = Date.now();
  peerPing('198.51.100.1');
  const second = await lastUse();
  const secondTo = Date.now();
  // The same from the two dumps a status reads (readUsage), and the larval SA of an allocated SPI.
  const spiNow = await kernel.spis!.allocate({ source: '192.0.2.2', destination: '192.0.2.1' });
  const table = await kernel.readUsage();
  const dumped = Object.fromEntries(directions.map((d) => [d, table.policyLastUse?.(used(d)) ?? null]));
  const larvalUsage = table.sa('192.0.2.1', spiNow) ?? null;
  await kernel.spis!.release(spiNow, '192.0.2.1');
  const out = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => out.bind(0, '198.51.100.1', () => resolve()));
  await new Promise<void>((resolve) => out.send('x', 9, '203.0.113.1', () => resolve()));
  out.close();
  const afterAcquire = await lastUse();
  for (const d of directions) await kernel.deletePolicy(used(d));
  report.lastUse = {
    notInstalled,
    unused,
    first,
    firstWindow: [firstFrom, firstTo],
    second,
    secondWindow: [secondFrom, secondTo],
    dumped,
    larvalUsage,
    afterAcquire,
    deleted: (await kernel.policyLastUse(used('in'))) ?? null,
    policies: ip('-s', 'xfrm', 'policy'),
  };
} finally {
  ike?.close();
  kernel.close();
}
console.log(JSON.stringify(report));
