import Table from 'cli-table3';
import { runAbortBench } from './abort';
import { runDispatchBench } from './dispatch';
import { runFaultsBench } from './faults';
import { runSessionsBench } from './sessions';
import { runSlaveBench } from './slave';

// `npm run bench`: every speed and memory target of the issues, measured on this machine
// against the real parts and printed as tables. `npm run bench -- dispatch` runs one.

type Row = Record<string, unknown>;

const BENCHES: Record<string, { title: string; run: () => Promise<Row[]> }> = {
  dispatch: { title: 'Master: INSERT → INQUEUE latency and dispatch throughput', run: () => runDispatchBench() },
  sessions: { title: 'Driver: concurrent generations in one browser (memory per session)', run: async () => (await runSessionsBench()) as unknown as Row[] },
  abort: { title: 'Driver: abort mid-generation closes the context', run: async () => (await runAbortBench()) as unknown as Row[] },
  slave: { title: 'Slave: job overhead, terminate latency, throughput', run: async () => (await runSlaveBench()) as unknown as Row[] },
  faults: { title: 'Faults: every job ends, none twice (kill -9, PostgreSQL and Temporal restarts)', run: () => runFaultsBench() },
};

function print(title: string, rows: Row[]): void {
  const head = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const table = new Table({ head });
  for (const r of rows) table.push(head.map((k) => (r[k] === null || r[k] === undefined ? '' : String(r[k]))));
  console.log(`\n${title}\n${table.toString()}`);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in BENCHES));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  for (const [name, bench] of Object.entries(BENCHES)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const t0 = Date.now();
    const rows = await bench.run();
    print(`${bench.title} (${((Date.now() - t0) / 1000).toFixed(0)} s)`, rows);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
