import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** One program of the cluster: a child process writing stdout and stderr to its own log file. */
export interface ClusterProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The log so far (every start of this name appends to the same file). */
  log(): string;
  /** Resolves once `pattern` appears in the output of this start; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` to this process only (not its children), as Docker does to a container's init child. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
}

export function spawnLogged(spec: SpawnSpec): ClusterProcess {
  const fd = fs.openSync(spec.logFile, 'a');
  const offset = fs.fstatSync(fd).size;
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const log = () => fs.readFileSync(spec.logFile, 'utf8');
  const sinceStart = () => {
    const buf = fs.readFileSync(spec.logFile);
    return buf.subarray(offset).toString('utf8');
  };
  return {
    name: spec.name,
    logFile: spec.logFile,
    child,
    exited,
    log,
    async waitFor(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (pattern.test(sinceStart())) return;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${spec.name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}; its log ${spec.logFile}:\n${tail(sinceStart())}`);
        }
        if (Date.now() > deadline) throw new Error(`${spec.name}: no ${pattern} after ${timeoutMs} ms; its log ${spec.logFile}:\n${tail(sinceStart())}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The last lines of a log, each cut short: enough to see why, not a screenful of JSON. */
export function tail(text: string, lines = 10): string {
  return text.trimEnd().split('\n').slice(-lines).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l)).join('\n');
}
