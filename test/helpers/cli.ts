import path from 'node:path';
import { configSchema } from '../../src/shared/config';
import { ROOT, startProgram, tsxProgram, type ProgramResult, type RunningProgram } from './program';

// Runs the real `grokflow` CLI as a child process, as a user or a script would.

export { ROOT };
export const BIN = path.join(ROOT, 'bin', 'grokflow');

export type CliResult = ProgramResult;
export type RunningCli = RunningProgram;

export interface CliOptions {
  /** The configuration (e.g. a stack's configEnv); nothing of the parent's grokflow settings leaks in. */
  env: Record<string, string | undefined>;
  /** true (default): bin/grokflow, the package's bin, through its shebang; false: `node --import tsx src/cli/main.ts` (npm run cli). */
  bin?: boolean;
  cwd?: string;
  /** Kill it after this long (a hung CLI fails the test, not the run). */
  timeoutMs?: number;
}

function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(configSchema.shape)) delete base[key];
  delete base.GROK_LOGIN_PASSWORD;
  delete base.NODE_TEST_CONTEXT;
  delete base.NODE_OPTIONS;
  const merged: NodeJS.ProcessEnv = { ...base, LOG_LEVEL: 'warn', LOG_PRETTY: 'false' };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export function startCli(args: string[], options: CliOptions): RunningCli {
  const [command, prefix] = options.bin !== false ? [BIN, []] : tsxProgram('src/cli/main.ts');
  return startProgram(`grokflow ${args.join(' ')}`, command, [...prefix, ...args], {
    env: childEnv(options.env),
    cwd: options.cwd,
    timeoutMs: options.timeoutMs ?? 180_000,
  });
}

// At most a few short-lived CLIs at once: each is a Node process with tsx, on 2 shared cores.
const MAX_PARALLEL = 4;
let active = 0;
const queued: Array<() => void> = [];

export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  // A finishing run hands its slot straight to the next queued one.
  if (active >= MAX_PARALLEL) await new Promise<void>((resolve) => queued.push(resolve));
  else active += 1;
  try {
    return await startCli(args, options).done;
  } finally {
    const next = queued.shift();
    if (next) next();
    else active -= 1;
  }
}

/** A readable assertion message: the command's output. */
export function show(r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
