import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { configSchema } from '../src/shared/config';

// docs/ARCHITECTURE.md is the map of the code: this keeps the map true to the ground. Every
// file it names exists, every SQL name (table, column, channel, function) is in a migration,
// every setting is in the config, and the count of files one job crosses matches its list.

const doc = fs.readFileSync('docs/ARCHITECTURE.md', 'utf8');
const names = [...new Set([...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!))];

const FILE = /^[\w.\-/<>]+\.(ts|js|sql|json|md|css|yml|yaml)$/;

/** Every file of the repository's own folders, for names the page gives without their folder. */
function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
const repoFiles = ['src', 'test', 'bench', 'migrations', 'docs'].flatMap((d) => walk(d));
const migrationsSql = fs.readdirSync('migrations').filter((f) => f.endsWith('.sql'))
  .map((f) => fs.readFileSync(path.join('migrations', f), 'utf8')).join('\n');
const metricsTs = fs.readFileSync('src/shared/metrics.ts', 'utf8');
const sourceTs = repoFiles.filter((f) => f.startsWith('src') && f.endsWith('.ts')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');

describe('docs/ARCHITECTURE.md', () => {
  test('every file and folder it names exists', () => {
    const missing: string[] = [];
    for (const n of names) {
      if (n.includes('<') || n.startsWith('../') || n.includes('…') || n.includes('*')) continue;
      if (FILE.test(n)) {
        // A path from the root, or one given inside its folder's paragraph (`assets/imagine.js`).
        const found = n.includes('/') ? fs.existsSync(n) || repoFiles.some((f) => f.endsWith(`/${n}`)) : repoFiles.some((f) => path.basename(f) === n);
        if (!found) missing.push(n);
      } else if (/^(src|test|bench|migrations|docs)\/[\w\-/]*\/$/.test(n) && !fs.existsSync(n)) {
        missing.push(n);
      }
    }
    assert.deepEqual(missing, [], `named in docs/ARCHITECTURE.md but not in the repository: ${missing.join(', ')}`);
  });

  test('every SQL name it mentions (table, column, channel, function) is in a migration, every metric in metrics.ts', () => {
    const sqlNames = names.filter((n) => /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(n));
    assert.ok(sqlNames.length >= 5, `expected the page to name its tables and channels, found ${sqlNames.join(', ')}`);
    const found = (n: string) => new RegExp(`\\b${n}\\b`).test(migrationsSql) || (n.startsWith('grokflow_') && metricsTs.includes(`'${n}'`));
    const missing = sqlNames.filter((n) => !found(n));
    assert.deepEqual(missing, [], `named in docs/ARCHITECTURE.md but in no migration: ${missing.join(', ')}`);
  });

  test('every setting it mentions is one of the config\'s (or a constant of the code)', () => {
    const settings = names.filter((n) => /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(n));
    const missing = settings.filter((n) => !(n in configSchema.shape) && !new RegExp(`const ${n}\\b`).test(sourceTs));
    assert.deepEqual(missing, [], `upper-case names in docs/ARCHITECTURE.md that are neither settings nor constants: ${missing.join(', ')}`);
  });

  test('the files one job crosses are counted right', () => {
    const m = doc.match(/these (\d+) files[^:]*:\n([\s\S]*?)\n\n/);
    assert.ok(m, 'the page says "these N files … :" followed by their list');
    const listed = [...m[2]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
    assert.equal(listed.length, Number(m[1]), `the page says ${m[1]} files and lists ${listed.length}`);
    for (const f of listed) assert.ok(fs.existsSync(f), `${f} (one job's path) does not exist`);
  });
});
