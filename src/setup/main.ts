import { loadConfig } from '../shared/config';
import { ensureDatabase, migrateDatabase, redactUrl } from '../shared/db/migrate';
import { ensureChromium } from './chromium';
import { ensureGoTool, ensureTemporalSchema } from './goTools';
import { CLUSTER_TOOLS, type GoTool } from './tools';

// Set-up for a fresh machine and for every start: each step is idempotent and fast when
// there is nothing to do, and says exactly what is missing when it fails.
interface Step {
  name: string;
  optional?: boolean;
  run(): Promise<string>;
}

export interface SetupOptions {
  /** Also the PostgreSQL-backed Temporal server and its schema tool, for `npm run cluster`. */
  cluster?: boolean;
  /**
   * Also the tools that only the tests and the operator use: versitygw (the S3-compatible
   * server of the storage tests and the delivery bench) and tctl. `npm run setup` (what
   * `npm test` and `npm run bench` run first) sets it; `npm start` builds only what it runs.
   */
  tools?: boolean;
}

export async function setup(print: (line: string) => void = console.log, options: SetupOptions = {}): Promise<boolean> {
  /** A pinned Go tool built into .tools/bin (reused when its version stamp matches). */
  const goToolStep = (tool: GoTool, name: string = tool, optional = false): Step => ({
    name,
    optional,
    async run() {
      const t = await ensureGoTool(tool, (line) => print(`setup: ${name.padEnd(17)} …    ${line}`));
      return `${t.action} ${t.path}${t.note ? ` (${t.note})` : ''}`;
    },
  });
  const config = loadConfig();
  const steps: Step[] = [
    {
      name: 'node',
      async run() {
        const [major, minor] = process.versions.node.split('.').map(Number);
        if (major! < 20 || (major === 20 && minor! < 3)) throw new Error(`Node ${process.version} is too old: install Node 20.3 or newer`);
        return process.version;
      },
    },
    {
      name: 'chromium',
      async run() {
        const c = await ensureChromium(config.CHROMIUM_PATH);
        return `${c.action} ${c.path} (${c.version})`;
      },
    },
    // The dev server `npm start` runs, and the CLI the README's commands use.
    goToolStep('temporal', 'temporal CLI'),
    // tctl is past end of support and optional: `temporal` does everything it does.
    ...(options.tools ? [goToolStep('tctl', 'tctl', true)] : []),
    // Only on request (`npm run setup -- --cluster`, CI): a few minutes of Go builds the
    // first time, which `npm start` and the plain test run do not need.
    ...(options.cluster ? CLUSTER_TOOLS.map((tool) => goToolStep(tool)) : []),
    ...(options.cluster
      ? [{
          name: 'temporal schema',
          async run() {
            const t = await ensureTemporalSchema();
            return `${t.action} ${t.path}`;
          },
        }]
      : []),
    // The S3-compatible server the storage tests and the delivery bench run (never the
    // service: with OUTPUT_URL it talks to the S3 server S3_ENDPOINT names, or AWS).
    ...(options.tools ? [goToolStep('versitygw', 'versitygw', true)] : []),
    {
      name: 'postgres',
      async run() {
        const where = redactUrl(config.DATABASE_URL);
        let created: boolean;
        try {
          created = await ensureDatabase(config.DATABASE_URL);
        } catch (err) {
          throw new Error(
            `PostgreSQL is not reachable at ${where} (${(err as Error).message}). Start PostgreSQL ` +
              '(or `docker compose up -d postgres`) or set DATABASE_URL.',
          );
        }
        await migrateDatabase(config.DATABASE_URL);
        return `${created ? 'created' : 'found'} ${where}, migrations applied`;
      },
    },
  ];

  let ok = true;
  for (const step of steps) {
    const started = Date.now();
    try {
      const detail = await step.run();
      print(`setup: ${step.name.padEnd(17)} ok   ${String(Date.now() - started).padStart(6)} ms  ${detail}`);
    } catch (err) {
      const level = step.optional ? 'skip' : 'FAIL';
      print(`setup: ${step.name.padEnd(17)} ${level} ${String(Date.now() - started).padStart(6)} ms  ${(err as Error).message}`);
      if (!step.optional) ok = false;
    }
  }
  return ok;
}

if (require.main === module) {
  const unknown = process.argv.slice(2).filter((a) => a !== '--cluster');
  if (unknown.length > 0) {
    console.error(`setup: unknown option ${unknown.join(' ')} (the only one is --cluster)`);
    process.exit(2);
  }
  // Run by hand, by `npm test` and `npm run bench`: everything the tests use, too.
  setup(console.log, { cluster: process.argv.includes('--cluster'), tools: true }).then(
    (ok) => process.exit(ok ? 0 : 1),
    (err) => {
      console.error(`setup: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
