import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findChromium } from '../shared/chromium';

const run = promisify(execFile);

export interface ChromiumResult {
  path: string;
  version: string;
  action: 'found' | 'installed';
}

/** CHROMIUM_PATH, Playwright's browser or the system one; as root, apt-get installs it. */
export async function ensureChromium(configured?: string): Promise<ChromiumResult> {
  let found = findChromium(configured);
  let action: ChromiumResult['action'] = 'found';
  if (!found && process.getuid?.() === 0 && (await run('apt-get', ['--version']).catch(() => undefined))) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, maxBuffer: 64 << 20 });
    } catch {
      // The package lists may be missing or stale on a fresh machine: refresh them once.
      await run('apt-get', ['update'], { env, maxBuffer: 64 << 20 });
      await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, maxBuffer: 64 << 20 });
    }
    found = findChromium(configured);
    action = 'installed';
  }
  if (!found) {
    throw new Error(
      'no Chromium found (CHROMIUM_PATH, Playwright\'s browser, /usr/bin/chromium). ' +
        'Run `npx playwright install chromium`, or `sudo apt-get install -y chromium`, or set CHROMIUM_PATH.',
    );
  }
  const { stdout } = await run(found, ['--version']);
  return { path: found, version: stdout.trim(), action };
}
