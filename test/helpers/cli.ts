import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { configSchema } from '../../src/shared/config';

// Runs the real `grokflow` CLI as a child process, as a user or a script would.

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'grokflow');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never printed" checks. */
  all: string;
}

export interface CliOptions {
  /** The configuration (e.g. a stack's configEnv); nothing of the parent's grokflow settings leaks in. */
  env: Record<string, string | undefined>;
  /** true (default): bin/grokflow, the package's bin, through its shebang; false: `node --import tsx src/cli/main.ts` (npm run cli). */
  bin?: boolean;
  cwd?: string;
  /** Kill it after this long (a hung CLI fails the test, not the run). */
  timeoutMs?: number;
}

export interface RunningCli {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout or stderr matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
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
  const [command, argv] = options.bin !== false
    ? [BIN, args]
    : [process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args]];
  const child = spawn(command, argv, { cwd: options.cwd ?? ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pattern.test(stdout) || w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; check(); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; check(); });
  const timeoutMs = options.timeoutMs ?? 180_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') {
        reject(new Error(`grokflow ${args.join(' ')}: killed after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code, signal, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
  return {
    child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    waitForOutput(pattern, waitMs = 120_000) {
      return new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`grokflow ${args.join(' ')}: no output matching ${pattern} after ${waitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), waitMs);
        const entry = { pattern, resolve: () => { clearTimeout(timeout); resolve(); } };
        waiters.push(entry);
        check();
        void done.then(() => {
          if (waiters.includes(entry)) {
            clearTimeout(timeout);
            reject(new Error(`grokflow ${args.join(' ')} exited before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        }, () => undefined);
      });
    },
    done,
  };
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
