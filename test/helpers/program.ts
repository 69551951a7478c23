import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

// Runs a program as a child process the way a user, a script or a service manager does,
// with its output kept for the test: the one runner for the CLI, the master, the slave,
// `npm start` and the compose services.

export const ROOT = path.resolve(__dirname, '..', '..');

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never printed" checks. */
  all: string;
}

export interface ProgramOptions {
  /** The child's whole environment: nothing of the parent's leaks in that is not here. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** A process group of its own, so a "Ctrl-C" (`process.kill(-pid, 'SIGINT')`) reaches all of it. */
  detached?: boolean;
  /** Kill it after this long, and `done` rejects (a hung program fails the test, not the run). Default: never. */
  timeoutMs?: number;
}

export interface RunningProgram {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr in the order they arrived. */
  readonly output: string;
  /** Resolves when stdout or stderr matches (a string: contains it); rejects on a timeout or if the program ends first. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has ended (its children may still hold its output open). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Settles when the program has ended and its output is closed. */
  done: Promise<ProgramResult>;
}

/** `node --import tsx <file>`: one of this repository's programs, as its npm script runs it. */
export function tsxProgram(file: string): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', path.join(ROOT, file)]];
}

/** Starts `command args`; `name` is how failures call it. */
export function startProgram(name: string, command: string, args: string[], options: ProgramOptions): RunningProgram {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env, detached: options.detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let output = '';
  const matches = (pattern: RegExp | string, text: string) => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
  const waiters: Array<{ pattern: RegExp | string; resolve: () => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (matches(w.pattern, stdout) || matches(w.pattern, stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; output += d; check(); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; output += d; check(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let timedOut = false;
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const done = new Promise<ProgramResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`${name}: killed after ${options.timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code, signal, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
  // Nobody may await `done` (a test that only waits for output): its rejection is reported there.
  done.catch(() => undefined);
  return {
    child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get output() { return output; },
    waitForOutput(pattern, waitMs = 120_000) {
      return new Promise<void>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`${name}: no output matching ${pattern} after ${waitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), waitMs);
        const entry = { pattern, resolve: () => { clearTimeout(timeout); resolve(); } };
        waiters.push(entry);
        check();
        void done.then(() => {
          if (waiters.includes(entry)) {
            clearTimeout(timeout);
            reject(new Error(`${name} exited before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        }, () => undefined);
      });
    },
    exited,
    done,
  };
}
