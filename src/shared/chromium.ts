import fs from 'node:fs';
import { chromium } from 'playwright';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** CHROMIUM_PATH, else Playwright's own browser, else the distribution's; undefined if none. */
export function findChromium(configured?: string): string | undefined {
  const candidates = [configured, playwrightChromium(), SYSTEM_CHROMIUM];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

function playwrightChromium(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}

// Without these, Chromium phones home at start (sync, components, field trials); on a closed
// network that is a burst of refused connections and a slower start.
export const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** Root cannot use Chromium's sandbox; everyone else keeps it. */
export function chromiumSandbox(): boolean {
  return typeof process.getuid === 'function' ? process.getuid() !== 0 : true;
}
