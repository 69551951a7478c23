import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright';
import { CHROMIUM_ARGS, chromiumSandbox, findChromium } from '../src/shared/chromium';

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
});
