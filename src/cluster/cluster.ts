import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { ensureGoTool, ensureTemporalSchema } from '../setup/goTools';
import { CLUSTER_TOOLS, PROJECT_ROOT, toolPath, TOOLS_BIN } from '../setup/tools';
import { freeLoopbackPort } from '../shared/freePort';
import { searchAttributeSpecs } from '../shared/searchAttributes';
import { composeService, composeServices, hostArgv, hostPath, serviceEnv, type ComposeService } from './compose';
import { spawnLogged, tail, type ClusterProcess } from './process';

// docker-compose.yml's topology as plain processes on this machine: Temporal's schemas made
// by temporal-sql-tool (the temporal-admin-tools job), the PostgreSQL-backed Temporal server
// (the temporal service), the namespace and search attributes (temporal-setup), the
// simulator, masters and slaves. Each runs the command, script and environment its compose
// service names; only what differs between a container and a process is replaced: host
// names (127.0.0.1), ports (free ones), paths (the repository's files and a folder of its
// own), and the database names (unique, so several clusters share one PostgreSQL).

export interface ClusterOptions {
  masters?: number;
  slaves?: number;
  /** PostgreSQL server (no database): the grokflow database and Temporal's two go there. */
  postgresUrl?: string;
  /** Logs, downloads and per-process data; default a new temporary folder. */
  dir?: string;
  /** The simulator's generation time (SIMULATOR_GENERATION_MS). */
  generationMs?: number;
  /** Simulator accounts, `name:password,…`, which every slave signs in to. */
  users?: string;
  /** Extra grokflow settings for the masters and slaves. */
  env?: Record<string, string>;
  /** stop() drops the three databases (and the temporary folder) unless this is true. */
  keepDatabases?: boolean;
}

export interface Cluster {
  dir: string;
  logsDir: string;
  downloadsDir: string;
  databaseUrl: string;
  temporalDatabases: string[];
  temporalAddress: string;
  namespace: string;
  simulatorUrl: string;
  server: ClusterProcess;
  simulator: ClusterProcess;
  masters: ClusterProcess[];
  slaves: ClusterProcess[];
  startMaster(): Promise<ClusterProcess>;
  startSlave(env?: Record<string, string>): Promise<ClusterProcess>;
  /** Stops the Temporal server process (SIGTERM) and starts it again on the same ports and databases. */
  restartServer(): Promise<void>;
  /** SIGTERM to every process, then drops the databases (unless keepDatabases). */
  stop(): Promise<void>;
}

const SERVER_PORTS = [
  'FRONTEND_GRPC_PORT', 'FRONTEND_HTTP_PORT', 'FRONTEND_MEMBERSHIP_PORT', 'HISTORY_GRPC_PORT', 'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT', 'MATCHING_MEMBERSHIP_PORT', 'WORKER_GRPC_PORT', 'WORKER_MEMBERSHIP_PORT',
] as const;

/** Builds (first time only) temporal-server, temporal-sql-tool and the schema copy. */
export async function ensureClusterTools(): Promise<void> {
  for (const tool of CLUSTER_TOOLS) await ensureGoTool(tool);
  await ensureTemporalSchema();
}

/**
 * A free port below 32768. The server stores its membership ports in a PostgreSQL smallint
 * column (cluster_membership), so the kernel's ephemeral ports (32768 and up) do not fit;
 * a random one from this range is checked by binding it.
 */
async function freeLowPort(taken: string[]): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (taken.includes(String(port))) continue;
    const server = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise((r) => server.close(r));
      return port;
    }
  }
}

/** `${VAR:-default}` and `${VAR}` as compose resolves them, from `env`. */
function interpolate(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, name: string, fallback?: string) => env[name] || (fallback ?? ''));
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  await ensureClusterTools();
  const services = composeServices();
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-cluster-'));
  // A folder of our own goes with the databases; one the caller named stays.
  const removeDir = () => {
    if (!options.dir && !options.keepDatabases) fs.rmSync(dir, { recursive: true, force: true });
  };
  const logsDir = path.join(dir, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const pg = new URL(options.postgresUrl ?? process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432');
  const suffix = randomBytes(4).toString('hex');
  const temporalDb = `temporal_${suffix}`;
  const visibilityDb = `temporal_visibility_${suffix}`;
  const appDb = `grokflow_cluster_${suffix}`;
  const databaseUrl = new URL(`/${appDb}`, pg).toString();
  const path_ = [TOOLS_BIN, path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter);
  const base = { PATH: path_, HOME: process.env.HOME ?? os.homedir() };
  const running: ClusterProcess[] = [];
  const run = (name: string, s: ComposeService, env: Record<string, string>) => {
    const [command, ...args] = hostArgv(s);
    const p = spawnLogged({ name, command: command!, args, cwd: PROJECT_ROOT, env: { ...base, ...env }, logFile: path.join(logsDir, `${name}.log`) });
    running.push(p);
    return p;
  };
  /** Runs a one-shot compose job to its end; `alongside` dying first fails it at once. */
  const oneShot = async (name: string, alongside?: ClusterProcess) => {
    const p = run(name, composeService(name, services), oneShotEnv[name]!);
    const code = await Promise.race([p.exited, alongside?.exited.then((c) => {
      p.child.kill('SIGTERM');
      throw new Error(`${alongside.name} exited ${c} while ${name} ran; its log ${alongside.logFile}:\n${tail(alongside.log(), 5)}`);
    })].filter(Boolean));
    if (code !== 0) throw new Error(`${name} exited ${code}; its log ${p.logFile}:\n${tail(p.log())}`);
  };

  const ports: Record<string, string> = {};
  for (const k of SERVER_PORTS) ports[k] = String(await freeLowPort(Object.values(ports)));
  const temporalAddress = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  const serverService = composeService('temporal', services);
  const serverEnv: Record<string, string> = {
    ...serviceEnv(serverService),
    POSTGRES_SEEDS: pg.hostname,
    DB_PORT: pg.port || '5432',
    POSTGRES_USER: decodeURIComponent(pg.username),
    POSTGRES_PWD: decodeURIComponent(pg.password),
    DBNAME: temporalDb,
    VISIBILITY_DBNAME: visibilityDb,
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: hostPath(serverService, serviceEnv(serverService).DYNAMIC_CONFIG_FILE_PATH ?? ''),
    LOG_LEVEL: 'warn',
    ...ports,
  };
  const setupEnv = serviceEnv(composeService('temporal-setup', services));
  const namespace = setupEnv.TEMPORAL_NAMESPACE ?? 'default';
  const oneShotEnv: Record<string, Record<string, string>> = {
    'temporal-admin-tools': {
      ...serviceEnv(composeService('temporal-admin-tools', services)),
      SQL_HOST: pg.hostname,
      SQL_PORT: pg.port || '5432',
      SQL_USER: decodeURIComponent(pg.username),
      SQL_PASSWORD: decodeURIComponent(pg.password),
      DBNAME: temporalDb,
      VISIBILITY_DBNAME: visibilityDb,
      SCHEMA_ROOT: path.join((await ensureTemporalSchema()).path, 'postgresql', 'v12'),
    },
    'temporal-setup': {
      ...setupEnv,
      TEMPORAL_ADDRESS: temporalAddress,
      // From src/shared/searchAttributes.ts, the list the code uses (compose repeats it).
      SEARCH_ATTRIBUTES: searchAttributeSpecs().join(' '),
      TRIES: '60',
    },
  };

  const stopAll = async () => {
    // Workers first (they drain against a live server), the server last.
    const order = (p: ClusterProcess) => (p.name.startsWith('temporal') ? 2 : p.name === 'simulator' ? 1 : 0);
    for (const rank of [0, 1, 2]) await Promise.all(running.filter((p) => order(p) === rank).map((p) => p.stop('SIGTERM')));
  };
  const dropDatabases = async () => {
    if (options.keepDatabases) return;
    const admin = new Client({ connectionString: new URL('/postgres', pg).toString() });
    await admin.connect();
    try {
      for (const name of [appDb, temporalDb, visibilityDb]) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  };

  try {
    await oneShot('temporal-admin-tools');
    let server = run('temporal', serverService, serverEnv);
    await oneShot('temporal-setup', server);

    const simulatorService = composeService('simulator', services);
    const simulatorPort = String(await freeLoopbackPort());
    const users = options.users ?? 'default:secret';
    // info at least: the cluster knows a program is up from its "… ready" log line.
    const logLevel = 'info';
    const simulator = run('simulator', simulatorService, {
      ...resolved(serviceEnv(simulatorService)),
      SIMULATOR_HOST: '127.0.0.1',
      SIMULATOR_PORT: simulatorPort,
      SIMULATOR_USERS: users,
      ...(options.generationMs ? { SIMULATOR_GENERATION_MS: String(options.generationMs) } : {}),
      LOG_LEVEL: logLevel,
    });
    await simulator.waitFor(/SIMULATOR running/);
    const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;

    const downloadsDir = path.join(dir, 'downloads');
    const counters = { master: 0, slave: 0 };
    const startApp = async (role: 'master' | 'slave', extra: Record<string, string> = {}) => {
      const n = ++counters[role];
      const name = `${role}-${n}`;
      const s = composeService(role, services);
      const p = run(name, s, {
        ...resolved(serviceEnv(s)),
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporalAddress,
        GROK_BASE_URL: '',
        SIMULATOR_URL: simulatorUrl,
        SIMULATOR_USERS: users,
        ACCOUNTS_DIR: path.join(dir, 'accounts'),
        DOWNLOADS_DIR: downloadsDir,
        ARTIFACTS_DIR: path.join(dir, 'artifacts'),
        // Each container has its own disk: the simulator sign-ins of one slave are its own.
        GROKFLOW_DATA_DIR: path.join(dir, 'data', name),
        METRICS_PORT: String(await freeLoopbackPort()),
        // Processes on one host, not containers: loopback, as outside compose.
        METRICS_HOST: '127.0.0.1',
        LOG_LEVEL: logLevel,
        ...options.env,
        ...extra,
      });
      await p.waitFor(new RegExp(`"${role} ready"`));
      return p;
    };
    const masters: ClusterProcess[] = [];
    const slaves: ClusterProcess[] = [];
    // The first master creates and migrates the database; the others find it done.
    const masterCount = options.masters ?? 2;
    if (masterCount > 0) masters.push(await startApp('master'));
    await Promise.all([
      ...Array.from({ length: Math.max(0, masterCount - 1) }, () => startApp('master').then((p) => masters.push(p))),
      ...Array.from({ length: options.slaves ?? 3 }, () => startApp('slave').then((p) => slaves.push(p))),
    ]);

    const cluster: Cluster = {
      dir, logsDir, downloadsDir, databaseUrl, temporalAddress, namespace, simulatorUrl, masters, slaves, simulator,
      temporalDatabases: [temporalDb, visibilityDb],
      get server() {
        return server;
      },
      async startMaster() {
        const p = await startApp('master');
        masters.push(p);
        return p;
      },
      async startSlave(env) {
        const p = await startApp('slave', env);
        slaves.push(p);
        return p;
      },
      async restartServer() {
        const code = await server.stop('SIGTERM');
        if (code !== 0) throw new Error(`the Temporal server exited ${code} on SIGTERM; its log ${server.logFile}`);
        server = run('temporal', serverService, serverEnv);
        await waitServing(temporalAddress, server);
      },
      async stop() {
        await stopAll();
        await dropDatabases();
        removeDir();
      },
    };
    return cluster;
  } catch (err) {
    await stopAll();
    await dropDatabases().catch(() => undefined);
    throw err;
  }
}

/** A compose environment with its `${VAR:-default}` interpolations resolved from this shell. */
function resolved(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, process.env)]));
}

/** Until the frontend answers a health check (`temporal operator cluster health`). */
async function waitServing(address: string, server: ClusterProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      execFile(toolPath('temporal'), ['operator', 'cluster', 'health', '--address', address], (err, stdout) => resolve(!err && /SERVING/.test(stdout)));
    });
    if (ok) return;
    if (server.child.exitCode !== null) throw new Error(`the Temporal server exited ${server.child.exitCode}; its log ${server.logFile}`);
    if (Date.now() > deadline) throw new Error(`the Temporal server at ${address} is not serving after ${timeoutMs} ms; its log ${server.logFile}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
