import fs from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startSimulator, type SimulatorOptions, type StorageStateCookie } from '../src/simulator/server';

// The simulator in a thread of its own, for benches that measure the driver's CPU: in the
// same thread its requests would count as the driver's (process.cpuUsage is per process,
// /proc/thread-self per thread), and Grok's servers are not on the driver's machine either.

interface Request {
  id: number;
  op: 'createPost' | 'storageState' | 'addUser' | 'generation' | 'cpuSeconds' | 'close';
  user?: string;
  /** generation: the one of this prompt (markers stripped). */
  prompt?: string;
}

/** When a generation started and how long the simulator made it take. */
export interface GenerationTimes {
  startedAt: number;
  durationMs: number;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ (getconf CLK_TCK) on Linux

/** CPU seconds (user + system) of the calling thread, from /proc/thread-self/stat. */
export function threadCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export interface ThreadedSimulator {
  url: string;
  createPost(user: string): Promise<{ postId: string; url: string }>;
  storageState(user: string): Promise<{ cookies: StorageStateCookie[]; origins: [] }>;
  addUser(user: string): Promise<void>;
  /** The generation of this prompt, if it started. */
  generation(prompt: string): Promise<GenerationTimes | undefined>;
  /** CPU seconds the simulator's thread has used so far. */
  cpuSeconds(): Promise<number>;
  close(): Promise<void>;
}

export async function startThreadedSimulator(options: SimulatorOptions): Promise<ThreadedSimulator> {
  // tsx's CommonJS hook, then this file again: the worker runs the branch at the bottom.
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(__filename)});`, { eval: true, workerData: options });
  const pending = new Map<number, (value: unknown) => void>();
  let next = 0;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { url: string }) => resolve(m.url));
  });
  worker.on('message', (m: { id: number; value: unknown }) => {
    pending.get(m.id)?.(m.value);
    pending.delete(m.id);
  });
  const ask = <T>(op: Request['op'], user?: string, prompt?: string) =>
    new Promise<T>((resolve) => {
      const id = ++next;
      pending.set(id, resolve as (v: unknown) => void);
      worker.postMessage({ id, op, user, prompt } satisfies Request);
    });
  return {
    url,
    createPost: (user) => ask('createPost', user),
    storageState: (user) => ask('storageState', user),
    addUser: (user) => ask('addUser', user),
    generation: (prompt) => ask('generation', undefined, prompt),
    cpuSeconds: () => ask('cpuSeconds'),
    async close() {
      await ask('close');
      await worker.terminate();
    },
  };
}

if (!isMainThread && parentPort && (workerData as SimulatorOptions | undefined)) {
  const port = parentPort;
  void (async () => {
    const sim = await startSimulator(workerData as SimulatorOptions);
    port.on('message', (r: Request) => {
      const reply = (value: unknown) => port.postMessage({ id: r.id, value });
      if (r.op === 'createPost') reply(sim.createPost(r.user!));
      else if (r.op === 'storageState') reply(sim.storageState(r.user!));
      else if (r.op === 'addUser') reply(void sim.addUser(r.user!, 'pw'));
      else if (r.op === 'generation') {
        const g = sim.generations.find((x) => x.prompt === r.prompt);
        reply(g ? { startedAt: g.startedAt, durationMs: g.durationMs } : undefined);
      }
      else if (r.op === 'cpuSeconds') reply(threadCpuSeconds());
      else if (r.op === 'close') void sim.close().then(() => reply(undefined));
    });
    port.postMessage({ url: sim.url });
  })();
}
