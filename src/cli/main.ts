import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../shared/config';
import { BACKEND_NAMES } from '../backends/names';
import { listAccounts, setAccount } from './accountsCommands';
import { CliContext, CliError, ExitCode } from './context';
import { addJob, cancelJob, listJobs, redeliverJob, retryJob, showJob } from './jobsCommands';
import type { BulkVerb } from './bulkActions';
import { bulkAction, importCommand, listPausesCommand, pauseCommand, resumeCommand } from './opsCommands';
import { watchJobs } from './watch';

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../../package.json') as { version: string }).version;
}

// Exit codes a script can rely on: 0 ok, 1 failed (or the watched job ended ERROR),
// 2 bad usage or invalid input, 3 not found.
const out = (text: string) => process.stdout.write(`${text}\n`);
let context: CliContext | undefined;
const ctx = () => (context ??= new CliContext());
let exitCode: number = ExitCode.Ok;

const program = new Command('grokflow')
  .description('Grok Imagine generations as Temporal workflows')
  .version(version(), '-V, --version')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) })
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', '\nExit codes: 0 ok, 1 failed (or the watched job ended ERROR), 2 bad usage or invalid input, 3 not found.');

/** The filter flags `jobs list` and the bulk actions share (src/cli/jobFilter.ts). */
function filterOptions(cmd: Command): Command {
  return cmd
    .option('-s, --status <status>', 'PENDING, INQUEUE, PROGRESS, COMPLETED or ERROR')
    .option('-t, --type <type>', 'video, image or a full type name')
    .option('-a, --account <name>', 'the account the job keeps to')
    .option('--pool <pool>', 'the pool the job runs in')
    .option('--search <text>', 'text in the job\'s prompt (or one of its prompts)')
    .option('--since <when>', 'created at or after: a date (2026-12-01), a time (2026-12-01T18:00Z) or an age (90m, 12h, 7d)')
    .option('--until <when>', 'created before: same forms as --since');
}

/** `jobs retry|cancel <id>` acts on one job; with filter flags instead, on every job they find. */
function bulkOrOne(verb: BulkVerb, one: (id: string, o: Record<string, unknown>) => Promise<void>) {
  return async (id: string | undefined, o: Record<string, unknown>) => {
    const filtering = ['status', 'type', 'account', 'pool', 'search', 'since', 'until'].some((k) => o[k] !== undefined);
    if (id !== undefined && filtering) throw new CliError(`give a job id or filter flags, not both`, ExitCode.Usage);
    if (id !== undefined) {
      if (o.dryRun || o.yes) throw new CliError('--dry-run and --yes go with filter flags (a bulk action)', ExitCode.Usage);
      return one(id, o);
    }
    if (!filtering) throw new CliError(`give a job id, or filter flags to ${verb} every job they find (see --help)`, ExitCode.Usage);
    return bulkAction(ctx(), verb, o, out);
  };
}

const jobsCmd = program.command('jobs').description('add, list, watch and control jobs');

jobsCmd
  .command('add')
  .description('add a PENDING job (validated by the same schema the master uses)')
  .addOption(new Option('-t, --type <type>', 'video, image or a full type name').default('video'))
  .option('-p, --prompt <text...>', 'prompt; several give one video per prompt')
  .option('--image-url <url>', 'a Grok Imagine post permalink to animate')
  .option('--image-path <file>', 'a local image to upload')
  .option('-n, --count <n>', 'how many videos/images (1-100)')
  .addOption(new Option('--duration <d>', 'video length').choices(['max', '6s', '10s']))
  .addOption(new Option('--resolution <r>').choices(['480p', '720p']))
  .addOption(new Option('--mode <m>').choices(['normal', 'fun', 'spicy', 'custom']))
  .addOption(new Option('--aspect-ratio <r>').choices(['16:9', '9:16', '1:1', '2:3', '3:2']))
  .option('--extend <seconds>', 'extend the video ("Extend video") until at least this long (up to 30)')
  .option('-a, --account <name>', 'keep to this account (a logged-in Grok account; api backend: an api account); default: any ready account of the pool')
  .option('--pool <pool>', 'run on the ready accounts of this pool (default "default")')
  .option('--deadline-minutes <n>', 'how long the job may wait for rate-limit cooldowns (default JOB_DEADLINE_MS)')
  .addOption(new Option('--backend <name>', 'browser (Grok\'s web app) or api (xAI\'s API); default GROK_BACKEND').choices([...BACKEND_NAMES]))
  .option('--upscale', 'upscale to HD and download the HD file')
  .option('--delete-after-download', 'delete the video on Grok once downloaded')
  .option('--min-successful <n>', 'COMPLETED when at least this many items succeed')
  .option('--priority <n>', 'higher runs first', '0')
  .option('--payload <json>', 'the whole payload as JSON instead of flags')
  .option('--json', 'print the job as JSON instead of its id')
  .action(async (o) => addJob(ctx(), o, out));

filterOptions(jobsCmd
  .command('list')
  .description('recent jobs as a table, with what each asks for (first prompt, count, backend); paused types and pools first'))
  .option('-l, --limit <n>', 'how many', '20')
  .option('--json')
  .action(async (o) => listJobs(ctx(), o, out));

jobsCmd
  .command('redeliver <id>')
  .description("send an ended job's callback again (a new delivery id; Temporal retries it)")
  .option('--json')
  .action(async (id, o) => redeliverJob(ctx(), id, o, out));

jobsCmd.command('show <id>').description('a job with its items, files, events and errors').option('--json').action(async (id, o) => showJob(ctx(), id, o, out));

jobsCmd
  .command('watch [id]')
  .description('live progress (LISTEN/NOTIFY); with an id, exits 0 when it completes and 1 when it fails')
  .action(async (id) => {
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    exitCode = await watchJobs(ctx(), id, out, stop.signal);
  });

filterOptions(jobsCmd
  .command('retry [id]')
  .description('a new PENDING job from a failed one, linked to it; with filter flags: every ERROR job they find that has no retry yet, after a preview'))
  .option('--dry-run', 'show the count, the jobs and the api jobs\' estimated cost; change nothing')
  .option('-y, --yes', 'act without asking (a script)')
  .option('--json')
  .action(bulkOrOne('retry', (id, o) => retryJob(ctx(), id, o, out)));
filterOptions(jobsCmd
  .command('cancel [id]')
  .description('cancel a job: its workflow records ERROR "cancelled" (a PENDING job ends at once); with filter flags: every unfinished job they find, after a preview'))
  .option('--wait', 'wait until the job has ended ERROR; exits 1 if it completed first')
  .option('--dry-run', 'show the count, the jobs and the api jobs\' estimated cost; change nothing')
  .option('-y, --yes', 'act without asking (a script)')
  .option('--json')
  .action(bulkOrOne('cancel', (id, o) => cancelJob(ctx(), id, o, out)));
jobsCmd
  .command('import <file>')
  .description('one PENDING job a row of a .csv (columns: payload fields; prompts split on "|"; optional type, key, priority) or a .jsonl (a payload a line); every row validated first, all or nothing')
  .option('-t, --type <type>', 'the type of rows without a type column (default video)')
  .option('--dry-run', 'validate and show what would be added; change nothing')
  .option('--skip-invalid', 'add the valid rows and list the invalid ones (default: one invalid row refuses the file)')
  .option('--json')
  .action(async (file, o) => importCommand(ctx(), file, o, out));

program
  .command('pause')
  .description('claim no new job of a type or pool (running ones finish); its Temporal Schedule shows paused')
  .option('-t, --type <type>', 'video, image or a full type name')
  .option('--pool <pool>')
  .option('--reason <text>', 'shown beside the pause (banner, jobs list, Web UI)')
  .action(async (o) => pauseCommand(ctx(), o, out));
program
  .command('resume')
  .description('claim jobs of a paused type or pool again (at once: the master hears it)')
  .option('-t, --type <type>', 'video, image or a full type name')
  .option('--pool <pool>')
  .action(async (o) => resumeCommand(ctx(), o, out));
program.command('pauses').description('the paused types and pools').option('--json').action(async (o) => listPausesCommand(ctx(), o, out));

const accountsCmd = program.command('accounts').description('Grok accounts: login, cooldowns, quotas');
accountsCmd.command('list').description('accounts with pool, in-flight generations, cooldowns, quota used and left, last error').option('--json').action(async (o) => listAccounts(ctx(), o, out));
accountsCmd
  .command('set <name>')
  .description('set an account\'s pool, limits, daily quota or budget, or clear its cooldown')
  .option('--daily-quota <n>', 'items per day, or "none"')
  .option('--pool <pool>', 'the pool whose jobs may run on it (default "default")')
  .option('--concurrency <n>', 'generations at once on it across every slave, or "default" (ACCOUNT_CONCURRENCY)')
  .option('--min-gap <ms>', 'least milliseconds between two generation starts on it, or "default" (ACCOUNT_MIN_GAP_MS)')
  .option('--daily-budget <usd>', 'makes it an api account (the xAI API key) with this daily budget in USD, or "none"')
  .option('--clear-cooldown')
  .action(async (name, o) => setAccount(ctx(), name, o, out));
accountsCmd
  .command('check <name>')
  .description('canary: open Grok with the saved session, check it is logged in and every selector resolves (generates nothing); exit 1 naming what is missing')
  .option('--post <url>', 'a post permalink to check the post page on (default: the first post the composer shows)')
  .option('--timeout <ms>', 'how long each selector may take to show once its page has loaded', '3000')
  .option('--json')
  .action(async (name, o) => {
    const { checkAccount } = await import('./check');
    await checkAccount(ctx(), name, o, out);
  });
// `accounts login`, and `login` as the design calls it.
for (const parent of [accountsCmd, program]) {
  parent
    .command('login <name>')
    .description(parent === program
      ? 'same as `accounts login`'
      : 'log in to Grok (or the simulator) in a browser and save the session, mode 0600')
    .option('--headless', 'no window (only the simulator can be logged into this way)')
    .option('--user <user>', 'fill the sign-in form as this user, password from GROK_LOGIN_PASSWORD (the simulator)')
    .action(async (name, o) => {
      const { loginAccount } = await import('./login');
      await loginAccount(ctx(), name, o, out);
    });
}

/** One line that names what is wrong: drizzle hides the database's reason in `cause`, and a
 * refused connection is an AggregateError with no message of its own. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  if (err.message.startsWith('Failed query') && cause) return `database: ${describeError(cause)}`;
  if (err instanceof AggregateError && !err.message) {
    const first = err.errors.find((e) => e instanceof Error) as Error | undefined;
    if (first) return describeError(first);
  }
  const code = (err as { code?: unknown }).code;
  if (!err.message && typeof code === 'string') return code;
  return err.message;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    process.stderr.write(`grokflow: ${describeError(err)}\n`);
    if (err instanceof CliError) return err.exitCode;
    if (err instanceof ConfigError) return ExitCode.Usage;
    return ExitCode.Failure;
  } finally {
    await context?.close();
  }
}

main(process.argv).then((code) => process.exit(code));
