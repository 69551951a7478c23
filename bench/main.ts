import Table from 'cli-table3';
import { runAbortBench } from './abort';
import { runApiBench } from './api';
import { runBacklogBench } from './backlog';
import { runBookkeepingBench } from './bookkeeping';
import { runClusterBench } from './cluster';
import { runDeliveryBench } from './delivery';
import { runDispatchBench } from './dispatch';
import { runFaultsBench } from './faults';
import { runPoolBench } from './pool';
import { runSessionsBench, sessionsTable } from './sessions';
import { runSlaveBench } from './slave';
import { runVariantsBench, variantTable } from './variants';

// `npm run bench`: every speed and memory target of the issues, measured on this machine
// against the real parts and printed as tables. `npm run bench -- dispatch` runs one.

type Row = Record<string, unknown>;

const BENCHES: Record<string, { title: string; run: () => Promise<Row[]>; onlyByName?: boolean }> = {
  dispatch: { title: 'Master: INSERT → INQUEUE latency and dispatch throughput', run: () => runDispatchBench() },
  sessions: { title: 'Driver: concurrent generations in one browser (memory and CPU per session; phase: rows split one generation by step)', run: async () => sessionsTable(await runSessionsBench()) },
  abort: { title: 'Driver: abort mid-generation closes the context', run: async () => (await runAbortBench()) as unknown as Row[] },
  slave: { title: 'Slave: job overhead, terminate latency, throughput', run: async () => (await runSlaveBench()) as unknown as Row[] },
  bookkeeping: { title: 'Slave: status changes while every generation slot is busy', run: async () => (await runBookkeepingBench()) as unknown as Row[] },
  // Not in the default run: it builds and starts the PostgreSQL-backed cluster (minutes).
  cluster: { title: 'Cluster (npm run cluster): jobs/min by slaves; 1,000 PENDING on PostgreSQL vs dev server', run: runClusterBench, onlyByName: true },
  delivery: { title: 'Delivery: uploads to S3-compatible storage (versitygw), signed callbacks', run: async () => (await runDeliveryBench()) as unknown as Row[] },
  variants: { title: 'Driver per simulator UI variant: 1-video overhead (≤ 1.0 s) split by step (ms), and 10 concurrent vs 1 (≤ 1.5 ×)', run: async () => variantTable(await runVariantsBench()) },
  pool: { title: 'Accounts as a pool: 30 jobs over 3 accounts, one rate limited, vs none (jobs/min ratio ≥ 0.6)', run: async () => (await runPoolBench()) as unknown as Row[] },
  api: { title: 'API backend (xAI stand-in): job overhead, submissions held to XAI_REQUESTS_PER_SECOND by Temporal, batch vs direct', run: async () => (await runApiBench()) as unknown as Row[] },
  // Not in the default run: 10,000 jobs unless BACKLOG_N says fewer (hours on the simulator's 3 s generations).
  backlog: { title: 'Backlog as rows: N PENDING over 3 accounts and over 1 (3 s generations) vs the same N without a backlog', run: async () => (await runBacklogBench()) as unknown as Row[], onlyByName: true },
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
    if (wanted.length > 0 ? !wanted.includes(name) : bench.onlyByName) continue;
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
