import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright';
import fs from 'node:fs';
import { CHROMIUM_ARGS, chromiumSandbox, DISABLED_FEATURES, findChromium } from '../src/shared/chromium';
import { descendants } from './helpers/processes';

const PAGE = `<!doctype html><title>t</title>
<button onclick="document.querySelector('output').textContent = 'clicked ' + (++window.n)">Go</button>
<output>idle</output><script>window.n = 0</script>`;

describe('Chromium through Playwright', () => {
  let server: http.Server;
  let browser: Browser;
  let url: string;

  before(async () => {
    server = http.createServer((_, res) => res.end(PAGE)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const executablePath = findChromium(process.env.CHROMIUM_PATH);
    assert.ok(executablePath, 'setup installs Chromium');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, chromiumSandbox: chromiumSandbox() });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('clicks a button on a local page and reads what it did', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: 'Go' }).click();
    await page.getByRole('button', { name: 'Go' }).click();
    assert.equal(await page.locator('output').textContent(), 'clicked 2');
    await page.close();
  });

  test('keeps every feature Playwright disables, and disables the omnibox WebUI too', () => {
    // The browser process: the one below this process started without --type.
    const cmdlines = descendants(process.pid).map((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    });
    const browserArgs = cmdlines.find((args) => args.length > 0 && !args.some((a) => a.startsWith('--type=')) && args.some((a) => a.startsWith('--remote-debugging-pipe')));
    assert.ok(browserArgs, 'the launched browser process is found');
    const lists = browserArgs.filter((a) => a.startsWith('--disable-features=')).map((a) => a.slice('--disable-features='.length).split(','));
    assert.ok(lists.length >= 1);
    // Chromium applies only the last switch: it must carry every name of the earlier ones.
    const applied = new Set(lists.at(-1));
    const lost = lists.slice(0, -1).flat().filter((name) => name && !applied.has(name));
    assert.deepEqual(lost, [], `Playwright disables features src/shared/chromium.ts does not repeat: add them to PLAYWRIGHT_DISABLED_FEATURES`);
    for (const name of DISABLED_FEATURES) assert.ok(applied.has(name), name);
  });

  test('a new context opens no address-bar WebUI of its own', async () => {
    const context = await browser.newContext();
    await context.newPage();
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = (await cdp.send('Target.getTargets' as never, { filter: [{}] } as never)) as { targetInfos: Array<{ type: string; url: string }> };
    await cdp.detach();
    await context.close();
    assert.ok(targetInfos.some((t) => t.type === 'page'), 'the page is listed');
    assert.deepEqual(targetInfos.filter((t) => t.url.includes('omnibox')).map((t) => t.url), []);
  });
});
