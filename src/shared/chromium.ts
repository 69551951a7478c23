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

// Chromium honours only the last --disable-features switch on its command line, and
// Playwright passes its own list (chromiumSwitches.ts in playwright-core) before the caller's
// arguments: ours repeats Playwright's names, or they would silently be enabled again.
// test/chromium.test.ts reads a launched browser's command line and fails when Playwright's
// list holds a name this copy lacks (after a Playwright upgrade).
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];

/**
 * CPU per session: Chromium's headless mode is the whole browser without a screen, and every
 * window it opens (a Playwright context is one) preloads the address bar's WebUI popups
 * (chrome://omnibox-popup.top-chrome/ and its AI Mode page) in a renderer of their own:
 * ~1.7 CPU-s per context on this machine, more than the Grok page cost. Nobody types into a
 * headless window's address bar.
 */
export const DISABLED_FEATURES = [...PLAYWRIGHT_DISABLED_FEATURES, 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];

// Without these, Chromium phones home at start (sync, components, field trials); on a closed
// network that is a burst of refused connections and a slower start.
export const CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-dev-shm-usage',
  `--disable-features=${DISABLED_FEATURES.join(',')}`,
];

/** Root cannot use Chromium's sandbox; everyone else keeps it. */
export function chromiumSandbox(): boolean {
  return typeof process.getuid === 'function' ? process.getuid() !== 0 : true;
}
