import type { ChildProcess } from 'node:child_process';
import { startProgram, tsxProgram } from './program';

export interface SlaveProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  output(): string;
  /** Resolves once the slave has printed `text`; fails if it exits first or after `timeoutMs`. */
  logged(text: string, timeoutMs: number): Promise<void>;
}

/** As long as a test may run: `ready` and untilLogged have no limit of their own but this. */
const NO_LIMIT_MS = 1_800_000;

/**
 * `npm run slave` as operators run it, as a child process: the stack's configuration, info
 * logs as JSON (the tests read them), then the test's own settings.
 */
export function startSlaveProcess(configEnv: Record<string, string>, env: Record<string, string>, children: ChildProcess[]): SlaveProcess {
  const [command, args] = tsxProgram('src/slave/main.ts');
  const slave = startProgram('the slave', command, args, {
    env: { PATH: process.env.PATH, ...configEnv, METRICS_PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...env },
  });
  children.push(slave.child);
  const ready = slave.waitForOutput('"slave ready"', NO_LIMIT_MS);
  ready.catch(() => undefined);
  return {
    child: slave.child,
    ready,
    exited: slave.exited.then((e) => e.code),
    output: () => slave.output,
    logged: (text, timeoutMs) => slave.waitForOutput(text, timeoutMs),
  };
}

/** Resolves once the slave has logged a line containing `text`. */
export async function untilLogged(slave: SlaveProcess, text: string, timeoutMs = 120_000): Promise<void> {
  await slave.logged(text, timeoutMs);
}
