/**
 * Headless Chromium for the page tests: Debian's `chromium` (/usr/bin/chromium), driven by
 * playwright-core (which never downloads a browser of its own). Without it the suite skips with
 * a warning; under CI (CI=true) it fails instead, as the summary reporter makes every skip.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.IKEKM_CHROMIUM ?? '/usr/bin/chromium';

/** Why Chromium cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set IKEKM_CHROMIUM)`;
}

/**
 * Starts Chromium headless (playwright-core gives it a fresh profile). The flags keep it off the
 * network: a closed network refuses its background connections, many at a time.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Where page tests leave their screenshots (test/output/, not committed). */
export function screenshotPath(name: string): string {
  return join(import.meta.dirname, '..', 'output', name);
}
