import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface SlaveProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  output(): string;
}

/**
 * `npm run slave` as operators run it, as a child process: the stack's configuration, info
 * logs as JSON (the tests read them), then the test's own settings.
 */
export function startSlaveProcess(configEnv: Record<string, string>, env: Record<string, string>, children: ChildProcess[]): SlaveProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'src', 'slave', 'main.ts')], {
    env: { PATH: process.env.PATH, ...configEnv, METRICS_PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"slave ready"')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`slave exited with ${code} before it was ready:\n${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited, output: () => out };
}

/** Resolves once the slave has logged a line containing `text`. */
export async function untilLogged(slave: SlaveProcess, text: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!slave.output().includes(text)) {
    if (slave.child.exitCode !== null) throw new Error(`slave exited before logging ${text}:\n${slave.output()}`);
    if (Date.now() > deadline) throw new Error(`slave did not log ${text} within ${timeoutMs} ms:\n${slave.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
