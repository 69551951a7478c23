import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { configSchema, loadConfig } from '../src/shared/config';
import { ROOT, runCli } from './helpers/cli';

// The README is the front door, docs/*.md the rest: these keep them honest. The settings
// table (docs/configuration.md) equals src/shared/config.ts; every link lands on a file and
// a heading that exist; every `npx grokflow …` command names a real command and real flags.

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const readme = read('README.md');
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const SETTINGS_DOC = 'docs/configuration.md';
const settings = read(SETTINGS_DOC);
// Rows of the configuration table: | `NAME` | default | meaning |
const rows = new Map(
  [...settings.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]),
);

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Text outside fenced blocks (a link inside a code block is an example, not a link). */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

describe('README and docs', () => {
  test('the README opens with the two commands: run the service, run the tests', () => {
    const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '';
    assert.match(firstBlock, /npm start/);
    assert.match(firstBlock, /npm test/);
    assert.ok(readme.indexOf('```sh') < readme.indexOf('## '), 'the commands come before any section');
  });

  test('the README is a first screen: what it is, prerequisites, a first job with jobs add, where to read on', () => {
    const lines = readme.trimEnd().split('\n');
    assert.ok(lines.length <= 60, `README.md has ${lines.length} lines; the reference belongs in docs/`);
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const prerequisites = at(/^## Prerequisites/);
    const firstJob = at(/npx grokflow jobs add /);
    assert.ok(prerequisites > 0 && firstJob > prerequisites, 'the prerequisites come before the commands that need them');
    assert.ok(at(/^## Read on/) > firstJob, 'it says where to read on');
    // Every page of docs/ is one link away: what moved out of the README is still found.
    const unlinked = DOCS.filter((f) => f !== 'README.md' && !readme.includes(`](${f})`));
    assert.deepEqual(unlinked, [], 'docs/ pages the README does not link');
  });

  test('the settings table documents every configuration variable, and only those', () => {
    assert.deepEqual([...rows.keys()].sort(), Object.keys(configSchema.shape).sort());
  });

  test('the settings table gives each variable the default the code uses', () => {
    const defaults = loadConfig({});
    for (const [name, cell] of rows) {
      const actual = defaults[name as keyof typeof defaults];
      const documented = cell.match(/^`([^`]*)`$/)?.[1];
      if (actual === undefined) assert.equal(documented, undefined, `${name}: ${SETTINGS_DOC} gives a default (${cell}) but it has none`);
      else assert.equal(documented, String(actual), `${name}: ${SETTINGS_DOC} says ${cell}, code says ${actual}`);
    }
  });

  test('every link between the README and docs/ lands on a file, and on a heading of it', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const m of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [rel, hash] = target.split('#') as [string, string | undefined];
        const dest = rel ? path.normalize(path.join(path.dirname(file), rel)) : file;
        if (!fs.existsSync(path.join(ROOT, dest))) {
          broken.push(`${file}: ${target} (no ${dest})`);
          continue;
        }
        if (hash && dest.endsWith('.md') && !anchors(read(dest)).has(hash)) broken.push(`${file}: ${target} (no heading #${hash} in ${dest})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  describe('every grokflow command the docs show exists, with the flags they give it', () => {
    const help = new Map<string, string>();
    let topLevel: string[] = [];
    const helpOf = async (words: string[]): Promise<string> => {
      const key = words.join(' ');
      if (!help.has(key)) {
        const r = await runCli([...words, '--help'], { env: {}, timeoutMs: 60_000 });
        help.set(key, r.stdout);
      }
      return help.get(key)!;
    };
    before(async () => {
      topLevel = [...(await helpOf([])).matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    });

    test('commands after `npx grokflow` and in the CLI tables', async () => {
      assert.ok(topLevel.includes('jobs') && topLevel.includes('accounts'), topLevel.join(', '));
      const commands: Array<{ file: string; text: string }> = [];
      for (const file of DOCS) {
        const text = read(file).replace(/\\\n\s*/g, ' ');
        for (const m of text.matchAll(/npx grokflow ([^`\n#]*)/g)) commands.push({ file, text: m[1]!.trim() });
        // The CLI's table: | `jobs add [...]` | what it does |
        for (const m of text.matchAll(/^\| `([a-z][a-z-]* [^`]*)` \|/gm)) {
          const [top, sub, ...rest] = m[1]!.split(' ');
          if (!topLevel.includes(top!)) continue;
          // `jobs retry\|cancel FILTERS …`: one command per alternative.
          for (const alt of (sub ?? '').split('\\|')) commands.push({ file, text: [top, alt, ...rest].join(' ') });
        }
      }
      assert.ok(commands.length >= 10, `found ${commands.length} commands`);
      const problems: string[] = [];
      for (const c of commands) {
        const words = c.text.split(/\s+/);
        let depth = 0;
        while (depth < 2 && /^[a-z][a-z-]*$/.test(words[depth] ?? '')) depth++;
        if (!topLevel.includes(words[0]!)) {
          problems.push(`${c.file}: "${c.text}": no command ${words[0]}`);
          continue;
        }
        // `accounts login alice`: the third word may be an argument; the usage line says which.
        let out = await helpOf(words.slice(0, depth));
        if (!out.includes(`Usage: grokflow ${words.slice(0, depth).join(' ')} `)) out = await helpOf(words.slice(0, (depth = 1)));
        if (!out.includes(`Usage: grokflow ${words.slice(0, depth).join(' ')} `)) {
          problems.push(`${c.file}: "${c.text}": no such command`);
          continue;
        }
        for (const flag of c.text.match(/--[a-z][a-z-]*/g) ?? []) {
          if (!new RegExp(`${flag}\\b`).test(out)) problems.push(`${c.file}: "${c.text}": ${words.slice(0, depth).join(' ')} has no ${flag}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  });

  test('.ci/run runs the README\'s install and test commands', () => {
    const ci = read('.ci/run');
    assert.match(ci, /^npm ci\b/m);
    assert.match(ci, /^npm test$/m);
  });
});
