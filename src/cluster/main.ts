import { Command } from 'commander';
import { startCluster } from './cluster';

// `npm run cluster`: docker-compose.yml's topology from plain processes on this machine (see
// cluster.ts), on free ports and databases of its own, until Ctrl-C; then every process is
// stopped and the databases dropped (--keep keeps them).
async function main(): Promise<void> {
  const opts = new Command('cluster')
    .option('--masters <n>', 'master processes', '2')
    .option('--slaves <n>', 'slave processes', '3')
    .option('--generation-ms <ms>', "the simulator's generation time", '3000')
    .option('--users <list>', 'simulator accounts, name:password,…', 'default:secret')
    .option('--dir <folder>', 'logs, downloads and data (default: a new temporary folder)')
    .option('--keep', 'keep the databases after stopping')
    .parse()
    .opts<{ masters: string; slaves: string; generationMs: string; users: string; dir?: string; keep?: boolean }>();
  const count = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${v}`);
    return n;
  };
  // A stop asked for during start-up is honoured once everything has started.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('cluster: starting (the first run builds temporal-server and temporal-sql-tool: a few minutes)');
  const cluster = await startCluster({
    masters: count('masters', opts.masters),
    slaves: count('slaves', opts.slaves),
    generationMs: count('generation-ms', opts.generationMs),
    users: opts.users,
    dir: opts.dir,
    keepDatabases: opts.keep,
  });
  const rows: [string, string][] = [
    ['DATABASE_URL', cluster.databaseUrl],
    ['TEMPORAL_ADDRESS', `${cluster.temporalAddress} (namespace ${cluster.namespace}; databases ${cluster.temporalDatabases.join(', ')})`],
    ['simulator', cluster.simulatorUrl],
    ['downloads', cluster.downloadsDir],
    ...[cluster.server, cluster.simulator, ...cluster.masters, ...cluster.slaves].map((p): [string, string] => [`${p.name} (pid ${p.child.pid})`, p.logFile]),
  ];
  for (const [k, v] of rows) console.log(`cluster: ${k.padEnd(24)} ${v}`);
  console.log('cluster: ready. Add jobs with `DATABASE_URL=… npm run cli -- jobs add -p "…"`; Ctrl-C stops everything.');
  await stopped;
  console.log('cluster: stopping');
  await cluster.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`cluster: ${(err as Error).message}`);
    process.exit(1);
  },
);
