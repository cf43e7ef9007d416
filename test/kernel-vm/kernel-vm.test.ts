/**
 * Smoke test of the kernel VM: one boot, in which smoke.guest.ts checks what the ESP tests will
 * lean on — an ESP state in a real kernel, network namespaces and veth, and two strongSwan
 * charons with kernel-netlink carrying pings through kernel ESP.
 */
import { expect, it } from 'vitest';
import { describeKernelVm, kernelVmReady } from './gate.js';
import { useGuestScript } from './guest-script.js';
import type { XfrmStateText } from './xfrm-text.js';
import type { ChildSaInfo } from '../interop/harness/vici.js';

const vm = await kernelVmReady();

describeKernelVm('kernel VM: ESP, namespaces and strongSwan in a real kernel', vm, () => {
  const guest = useGuestScript(new URL('./smoke.guest.ts', import.meta.url), [], { timeoutMs: 300_000 });

  it('runs the guest driver as root in the repository, under the VM kernel', () => {
    const env = guest.value<{ uid: number; cwd: string; kernel: string }>('environment');
    expect(env.uid).toBe(0);
    expect(env.cwd).toBe(process.cwd());
    expect(env.kernel).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    expect(guest.run.report?.complete).toBe(true);
    expect(guest.run.status).toBe(0);
  });

  it('installs an ESP state with rfc4106(gcm(aes)); esp4 and xfrm_user autoload', () => {
    const esp = guest.value<{ key: string; listed: string; autoloaded: string[] }>('esp-state');
    expect(esp.listed).toContain('src 192.0.2.1 dst 192.0.2.2');
    expect(esp.listed).toMatch(/proto esp spi 0x00000100 .*mode tunnel/);
    expect(esp.listed).toContain(`aead rfc4106(gcm(aes)) ${esp.key} 128`);
    expect(esp.autoloaded).toEqual(['esp4', 'xfrm_user', 'gcm']);
  });

  it('two namespaces joined by veth ping each other', () => {
    expect(guest.step('veth-ping').outcome).toBe('passed');
  });

  it('two charons with kernel-netlink set up a tunnel; pings go through it', () => {
    expect(guest.value<{ plugins: string[] }>('charons').plugins).not.toContain('kernel-libipsec');
    expect(guest.value<{ ping: string }>('tunnel').ping).toMatch(/3 packets transmitted, 3 received/);
  });

  it('each kernel holds both ESP states, with the SPIs charon negotiated, and counted the pings', () => {
    const sas = guest.value<{ a: XfrmStateText[]; b: XfrmStateText[]; charonA: ChildSaInfo; charonB: ChildSaInfo }>('kernel-sas');
    const { charonA, charonB } = sas;
    expect(charonA.spiIn).toBe(charonB.spiOut);
    expect(charonA.spiOut).toBe(charonB.spiIn);
    expect(charonA.encap).toBe(false);
    for (const side of [sas.a, sas.b]) {
      expect(side.map((s) => s.spi).sort()).toEqual([charonA.spiIn, charonA.spiOut].sort());
      for (const state of side) {
        expect(state).toMatchObject({ proto: 'esp', mode: 'tunnel', algorithm: 'rfc4106(gcm(aes))', encap: false });
        expect(state.packets).toBe(3);
      }
    }
    const aToB = sas.a.find((s) => s.src === '192.0.2.1');
    expect(aToB?.spi).toBe(charonA.spiOut);
  });

  it('the pings crossed the veth as plain ESP (tshark in the VM)', () => {
    const packets = guest.value<Array<{ src: string; dst: string; spi: string }>>('esp-on-the-wire');
    const { charonA } = guest.value<{ charonA: ChildSaInfo }>('kernel-sas');
    expect(packets).toHaveLength(6);
    expect(packets.filter((p) => p.src === '192.0.2.1' && p.spi === `0x${charonA.spiOut}`)).toHaveLength(3);
    expect(packets.filter((p) => p.src === '192.0.2.2' && p.spi === `0x${charonA.spiIn}`)).toHaveLength(3);
  });
});
