import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { configSchema, loadConfig } from '../src/shared/config';

const readme = fs.readFileSync('README.md', 'utf8');
// Rows of the configuration table: | `NAME` | default | meaning |
const rows = new Map(
  [...readme.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]),
);

describe('README', () => {
  test('opens with the two commands: run the service, run the tests', () => {
    const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '';
    assert.match(firstBlock, /npm start/);
    assert.match(firstBlock, /npm test/);
    assert.ok(readme.indexOf('```sh') < readme.indexOf('## '), 'the commands come before any section');
  });

  test('documents every configuration variable, and only those', () => {
    assert.deepEqual([...rows.keys()].sort(), Object.keys(configSchema.shape).sort());
  });

  test('gives each variable the default the code uses', () => {
    const defaults = loadConfig({});
    for (const [name, cell] of rows) {
      const actual = defaults[name as keyof typeof defaults];
      const documented = cell.match(/^`([^`]*)`$/)?.[1];
      if (actual === undefined) assert.equal(documented, undefined, `${name}: README gives a default (${cell}) but it has none`);
      else assert.equal(documented, String(actual), `${name}: README says ${cell}, code says ${actual}`);
    }
  });

  test('.ci/run runs the README\'s install and test commands', () => {
    const ci = fs.readFileSync('.ci/run', 'utf8');
    assert.match(ci, /^npm ci\b/m);
    assert.match(ci, /^npm test$/m);
  });
});
