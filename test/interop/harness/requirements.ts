/**
 * What an interop suite needs from the machine, and what happens when it is missing.
 *
 * Policy (same as test/support/tshark.ts): on a developer machine without root or strongSwan
 * the suite is skipped LOUDLY (console.warn naming what is missing and how to get it); under
 * CI (process.env.CI === 'true') it runs anyway and every test fails in beforeAll with the
 * reason, so a CI image that lost a package cannot turn the suite silently green.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe } from 'vitest';
import { CHARON, SWANCTL } from './charon.js';
import { DUMPCAP } from './capture.js';
import { IP } from './netns.js';

export interface InteropNeeds {
  /** dumpcap, for startCapture (default false). */
  readonly capture?: boolean;
  /** ping (iputils-ping), to push traffic through a tunnel (default false). */
  readonly ping?: boolean;
  /** tshark, to dissect captures (default false). */
  readonly tshark?: boolean;
  /** nft, for impairment with nftables (default false). */
  readonly nft?: boolean;
}

export interface InteropAvailability {
  readonly available: boolean;
  /** One entry per missing piece, with the way to get it. */
  readonly missing: readonly string[];
}

const cache = new Map<string, InteropAvailability>();

function runs(file: string, args: readonly string[]): string | undefined {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) return result.error.message;
  if (result.status !== 0) return `exit ${result.status}: ${(result.stderr || result.stdout).trim().split('\n')[0] ?? ''}`;
  return undefined;
}

/** Checks root, network namespaces, TUN, charon and swanctl (+ the optional `needs`). Cached. */
export function interopAvailable(needs: InteropNeeds = {}): InteropAvailability {
  const key = JSON.stringify(needs);
  const cached = cache.get(key);
  if (cached) return cached;
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces, veth and TUN need it; run as root)');
  const ipProblem = runs(IP, ['netns', 'list']);
  if (ipProblem) missing.push(`\`ip netns\` (iproute2): ${ipProblem}`);
  // Listing works without privileges; creating a namespace is what the lab really needs.
  else if (process.getuid?.() === 0) {
    const unshareProblem = runs('unshare', ['--net', '--mount', 'true']);
    if (unshareProblem) missing.push(`creating network/mount namespaces (unshare --net --mount): ${unshareProblem}`);
  }
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun (kernel-libipsec needs a TUN device)');
  try {
    accessSync(CHARON, constants.X_OK);
  } catch {
    missing.push(`${CHARON} (apt-get install strongswan-charon libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins)`);
  }
  if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so') && CHARON === '/usr/lib/ipsec/charon') {
    missing.push('kernel-libipsec plugin (apt-get install libcharon-extra-plugins)');
  }
  const swanctlProblem = runs(SWANCTL, ['--version']);
  // swanctl --version without a daemon prints its version, then fails to reach the default socket.
  if (swanctlProblem && /ENOENT/.test(swanctlProblem)) missing.push(`${SWANCTL} (apt-get install strongswan-swanctl)`);
  if (needs.capture && runs(DUMPCAP, ['-v'])) missing.push(`${DUMPCAP} (apt-get install tshark)`);
  if (needs.tshark && runs('tshark', ['--version'])) missing.push('tshark (apt-get install tshark)');
  if (needs.ping && runs('ping', ['-V'])) missing.push('ping (apt-get install iputils-ping)');
  if (needs.nft && runs('nft', ['--version'])) missing.push('nft (apt-get install nftables)');
  const availability = { available: missing.length === 0, missing };
  cache.set(key, availability);
  return availability;
}

/** run, skip (loudly) or fail (missing under CI=true). */
export function interopGate(availability: InteropAvailability, env: NodeJS.ProcessEnv = process.env): 'run' | 'skip' | 'fail' {
  if (availability.available) return 'run';
  return env.CI === 'true' ? 'fail' : 'skip';
}

/**
 * `describe` for suites that need the interop lab. Unavailable: warns and skips, or under CI
 * registers the suite with a beforeAll that throws the reason (so every test fails).
 */
export function describeInterop(name: string, body: () => void, needs: InteropNeeds = {}): void {
  const availability = interopAvailable(needs);
  const gate = interopGate(availability);
  if (gate === 'skip') {
    console.warn(`\n*** SKIPPING "${name}": interop lab unavailable; missing:\n  - ${availability.missing.join('\n  - ')}\n***\n`);
  }
  describe.skipIf(gate === 'skip')(name, () => {
    if (gate === 'fail') {
      beforeAll(() => {
        throw new Error(`interop lab required under CI=true but unavailable; missing: ${availability.missing.join('; ')}`);
      });
    }
    body();
  });
}
