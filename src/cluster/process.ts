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
  /**
   * Sends `signal` to this process only (not its children), as Docker does to a container's
   * init child; SIGKILL after `graceMs` (default 45 s, compose's stop_grace_period for slaves).
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** compose's longest stop_grace_period (the slaves'): SHUTDOWN_GRACE_MS plus room to close. */
const STOP_GRACE_MS = 45_000;

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
    async stop(signal = 'SIGTERM', graceMs = STOP_GRACE_MS) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      // As Docker does after stop_grace_period: a program that has not exited by then is
      // killed, and said so, rather than holding the whole cluster's stop forever.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); });
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first !== 'late') return first;
      process.stderr.write(`cluster: ${spec.name} (pid ${child.pid}) still running ${graceMs} ms after ${signal}: SIGKILL; its log ${spec.logFile}\n`);
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** The last lines of a log, each cut short: enough to see why, not a screenful of JSON. */
export function tail(text: string, lines = 10): string {
  return text.trimEnd().split('\n').slice(-lines).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l)).join('\n');
}
