import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { configSchema } from '../src/shared/config';
import { SEARCH_ATTRIBUTES } from '../src/shared/searchAttributes';
import { SYSTEM_CHROMIUM } from '../src/shared/chromium';
import { TEMPORAL_SERVER_VERSION } from '../src/setup/tools';
import { composeService, hostArgv, serviceEnv } from '../src/cluster/compose';
import { freeLoopbackPort } from '../src/shared/freePort';
import { descendants, survivors } from './helpers/processes';
import { startProgram } from './helpers/program';
import { startStack, type Stack } from './helpers/stack';

// docker-compose.yml, the Dockerfile and their helper files, checked by parsing them: no
// Docker engine (nor the compose plugin) is needed, so this runs anywhere the tests run. The
// last part runs the programs' container commands as written and stops them as Docker does.

const root = path.resolve(__dirname, '..');
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  container_name?: string;
  environment?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  ports?: (string | number | { published?: string | number; target?: number })[];
  expose?: (string | number)[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  healthcheck?: { test?: unknown; disable?: boolean };
  shm_size?: string | number;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  assert.ok(s, `service ${name} is missing from docker-compose.yml`);
  return s;
};

/** A service's environment as strings (the parsing `npm run cluster` uses too). */
const env = (s: Service): Record<string, string> => serviceEnv(s);

function dependsOn(s: Service): Record<string, string> {
  const d = s.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v?.condition ?? 'service_started']));
}

interface Mount { source: string; target: string; readOnly: boolean }
function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode = ''] = v.split(':');
      return { source: source!, target: target ?? source!, readOnly: mode.split(',').includes('ro') };
    }
    return { source: v.source ?? '', target: v.target ?? '', readOnly: !!v.read_only };
  });
}

/** The host port a port mapping fixes, or undefined when Docker picks one. */
function fixedHostPort(p: string | number | { published?: string | number }): string | undefined {
  if (typeof p === 'object') return p.published === undefined ? undefined : String(p.published);
  const parts = String(p).split(':');
  if (parts.length === 1) return undefined; // container port only
  const host = parts[parts.length - 2]!;
  return host === '' ? undefined : host;
}

/** The file a bind mount of the repository points at, resolved against the compose file. */
function repoFile(source: string): string | undefined {
  return source.startsWith('./') || source.startsWith('../') ? path.resolve(root, source) : undefined;
}

/** The script a one-shot admin-tools service runs: the mounted file its entrypoint names. */
function entrypointScript(s: Service): string {
  const words = ([] as string[]).concat(s.entrypoint ?? [], s.command ?? []).join(' ').split(/\s+/);
  const m = mounts(s).find((v) => words.includes(v.target) && repoFile(v.source));
  assert.ok(m, 'the entrypoint runs a script mounted from the repository');
  return fs.readFileSync(repoFile(m.source)!, 'utf8');
}

function imageParts(image: string): { name: string; tag?: string; digest?: string } {
  const [ref, digest] = image.split('@');
  const slash = ref!.lastIndexOf('/');
  const colon = ref!.lastIndexOf(':');
  return colon > slash ? { name: ref!.slice(0, colon), tag: ref!.slice(colon + 1), digest } : { name: ref!, digest };
}

/** A tag that names one release: 16.14, 1.32.1, 20.20.2-bookworm-slim — not latest, not 16. */
function assertPinned(image: string, where: string) {
  const { tag, digest } = imageParts(image);
  assert.ok(tag, `${where}: image ${image} has no tag`);
  assert.notEqual(tag, 'latest', `${where}: image ${image} uses latest`);
  assert.match(tag, /^v?\d+\.\d+/, `${where}: image ${image} does not name a release (major.minor at least)`);
  if (digest) assert.match(digest, /^sha256:[0-9a-f]{64}$/, `${where}: bad digest`);
}

function hostOf(address: string): { host: string; port: string } {
  const u = new URL(address.includes('://') ? address : `grpc://${address}`);
  return { host: u.hostname, port: u.port };
}

const APP = ['master', 'slave'] as const;
/** The services that run grokflow's own programs (the image built from the Dockerfile). */
const PROGRAMS = ['simulator', 'master', 'slave'] as const;
/** Programs whose container command must be node itself (the stop test runs PROGRAMS). */
const NODE_COMMANDS = [...PROGRAMS, 'web'] as const;

describe('docker-compose.yml', () => {
  test('has every service of the scaled deployment', () => {
    for (const name of ['postgres', 'temporal-admin-tools', 'temporal', 'temporal-setup', 'temporal-ui', 'master', 'slave']) {
      service(name);
    }
  });

  test('pins every image to a release and builds the app from the Dockerfile', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.image === undefined) {
        assert.ok(s.build, `${name} has neither image nor build`);
        continue;
      }
      assertPinned(s.image, name);
    }
    for (const name of APP) {
      const b = service(name).build;
      const context = typeof b === 'string' ? b : (b as { context?: string } | undefined)?.context;
      assert.equal(path.resolve(root, context ?? '.'), root, `${name} builds the project's Dockerfile`);
    }
    assert.match(service('postgres').image!, /^postgres:16[.-]/, 'PostgreSQL 16');
    assert.equal(imageParts(service('temporal').image!).name, 'temporalio/server');
    assert.equal(imageParts(service('temporal-ui').image!).name, 'temporalio/ui');
    for (const name of ['temporal-admin-tools', 'temporal-setup']) {
      assert.equal(imageParts(service(name).image!).name, 'temporalio/admin-tools', name);
    }
    // The schema job's tools must match the server they prepare the databases for, and
    // `npm run cluster` builds the same release of both.
    assert.equal(imageParts(service('temporal-admin-tools').image!).tag, imageParts(service('temporal').image!).tag,
      'admin-tools and server are the same release');
    assert.equal(`v${imageParts(service('temporal').image!).tag}`, TEMPORAL_SERVER_VERSION, 'the server image is the release npm run cluster builds');
  });

  test('does not use the deprecated temporalio/auto-setup image', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.doesNotMatch(s.image ?? '', /auto-setup/, name);
    }
    assert.doesNotMatch(composeText.replace(/^\s*#.*$/gm, ''), /temporalio\/auto-setup/);
  });

  test('slave scales: no container_name, no fixed host port', () => {
    const slave = service('slave');
    assert.equal(slave.container_name, undefined, 'container_name would allow a single replica');
    for (const p of slave.ports ?? []) {
      assert.equal(fixedHostPort(p), undefined, `slave port ${JSON.stringify(p)} fixes a host port`);
    }
    assert.ok(slave.shm_size, 'slave sets shm_size for Chromium');
  });

  test('start-up order: schema job, then server, then namespace, then the app', () => {
    const d = (name: string) => dependsOn(service(name));
    assert.equal(d('temporal-admin-tools').postgres, 'service_healthy');
    assert.equal(d('temporal')['temporal-admin-tools'], 'service_completed_successfully');
    assert.equal(d('temporal-setup').temporal, 'service_healthy');
    assert.equal(d('temporal-ui').temporal, 'service_healthy');
    for (const name of APP) {
      assert.equal(d(name).postgres, 'service_healthy', `${name} waits for postgres`);
      assert.equal(d(name).temporal, 'service_healthy', `${name} waits for temporal`);
      assert.equal(d(name)['temporal-setup'], 'service_completed_successfully', `${name} waits for the namespace`);
    }
    // service_healthy means nothing unless the target has a health check.
    for (const [name, s] of Object.entries(services)) {
      for (const [target, condition] of Object.entries(dependsOn(s))) {
        assert.ok(services[target], `${name} depends on unknown service ${target}`);
        if (condition === 'service_healthy') {
          const hc = services[target]!.healthcheck;
          assert.ok(hc?.test && !hc.disable, `${name} waits for ${target} to be healthy, which has no healthcheck`);
        }
      }
    }
  });

  test('master and slave set only grokflow settings, pointing at the compose services', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of APP) {
      const e = env(service(name));
      for (const key of Object.keys(e)) {
        assert.ok(known.has(key), `${name} sets ${key}, which is not a grokflow setting (src/shared/config.ts)`);
      }
      const db = hostOf(e.DATABASE_URL ?? '');
      assert.equal(db.host, 'postgres', `${name}: DATABASE_URL points at the postgres service`);
      assert.equal(db.port, '5432');
      const pg = env(service('postgres'));
      assert.equal(decodeURIComponent(new URL(e.DATABASE_URL!).password), pg.POSTGRES_PASSWORD, `${name}: DATABASE_URL password`);
      const t = hostOf(e.TEMPORAL_ADDRESS ?? '');
      assert.equal(t.host, 'temporal', `${name}: TEMPORAL_ADDRESS points at the temporal service`);
      assert.equal(t.port, '7233');
      assert.equal(e.TEMPORAL_NAMESPACE ?? 'default', env(service('temporal-setup')).TEMPORAL_NAMESPACE,
        `${name} uses the namespace temporal-setup registers`);
      assert.equal(e.CHROMIUM_PATH, SYSTEM_CHROMIUM, `${name}: CHROMIUM_PATH is where Debian's chromium installs`);
      assert.match(e.GROK_BASE_URL ?? '', /^\$\{GROK_BASE_URL(:?-[^}]*)?\}$/, `${name}: GROK_BASE_URL passes the host's through`);
      // Every value must pass the app's own validation (interpolations read as unset).
      const literal = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== '' && !v.includes('${')));
      const parsed = configSchema.safeParse(literal);
      assert.ok(parsed.success, `${name}: ${parsed.error?.message}`);
      assert.ok((parsed.data.METRICS_PORT ?? 0) > 0, `${name}: metrics on`);
      assert.ok((service(name).expose ?? []).map(String).includes(String(parsed.data.METRICS_PORT)), `${name} exposes METRICS_PORT`);
    }
  });

  test('metrics listen on every interface inside the containers; the slave\'s stop grace outlasts SHUTDOWN_GRACE_MS', () => {
    for (const name of APP) assert.equal(env(service(name)).METRICS_HOST, '0.0.0.0', `${name}: METRICS_HOST`);
    // Docker SIGKILLs after stop_grace_period: shorter than the grace, generations are cut off.
    const slave = service('slave') as Service & { stop_grace_period?: string };
    const seconds = Number(/^(\d+)s$/.exec(slave.stop_grace_period ?? '10s')?.[1]);
    const grace = configSchema.parse(Object.fromEntries(Object.entries(env(slave)).filter(([, v]) => v !== '' && !v.includes('${')))).SHUTDOWN_GRACE_MS;
    assert.ok(seconds * 1000 > grace, `stop_grace_period ${slave.stop_grace_period} must exceed SHUTDOWN_GRACE_MS ${grace}`);
  });

  test('every program runs node directly (what its npm script runs), under init', () => {
    // npm receiving SIGTERM exits without passing it on: node must be the command itself.
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of NODE_COMMANDS) {
      const s = service(name);
      assert.equal(s.entrypoint, undefined, `${name} keeps the image's entrypoint`);
      assert.ok(Array.isArray(s.command), `${name}: command in exec form (no shell in between)`);
      const cmd = (s.command as string[]).join(' ');
      assert.equal(s.command[0], 'node', `${name} runs node, not ${s.command[0]}`);
      assert.equal(cmd, scripts[name], `${name}: the same command as \`npm run ${name}\``);
      assert.equal((s as { init?: boolean }).init, true, `${name}: init: true reaps and forwards signals`);
    }
  });

  test('master and slave mount their folders', () => {
    for (const name of APP) {
      const s = service(name);
      const e = env(s);
      const byTarget = new Map(mounts(s).map((m) => [m.target, m]));
      for (const key of ['ACCOUNTS_DIR', 'DOWNLOADS_DIR'] as const) {
        assert.ok(e[key]?.startsWith('/'), `${name}: ${key} is an absolute path`);
        assert.ok(byTarget.has(e[key]!), `${name}: ${key} (${e[key]}) is a mounted volume`);
      }
      if (name === 'slave') assert.ok(byTarget.get(e.ACCOUNTS_DIR!)!.readOnly, 'slaves mount the accounts read-only');
    }
  });

  test('temporal server reads PostgreSQL settings that match the schema job', () => {
    const server = env(service('temporal'));
    assert.equal(server.DB, 'postgres12');
    assert.ok(services[server.POSTGRES_SEEDS!], 'POSTGRES_SEEDS names a compose service');
    assert.equal(server.DB_PORT, '5432');
    const pg = env(service('postgres'));
    assert.equal(server.POSTGRES_USER, pg.POSTGRES_USER);
    assert.equal(server.POSTGRES_PWD, pg.POSTGRES_PASSWORD);
    const job = env(service('temporal-admin-tools'));
    assert.equal(job.SQL_PLUGIN, server.DB);
    assert.equal(job.SQL_HOST, server.POSTGRES_SEEDS);
    assert.equal(job.SQL_PASSWORD, pg.POSTGRES_PASSWORD);
    assert.equal(job.DBNAME, server.DBNAME);
    assert.equal(job.VISIBILITY_DBNAME, server.VISIBILITY_DBNAME);
    assert.deepEqual([server.DBNAME, server.VISIBILITY_DBNAME], ['temporal', 'temporal_visibility']);
    // The plain server image has no config of its own to point at: the dynamic config
    // file it names must be mounted from the repository.
    const dc = mounts(service('temporal')).find((m) => m.target === server.DYNAMIC_CONFIG_FILE_PATH);
    assert.ok(dc && fs.existsSync(repoFile(dc.source)!), 'DYNAMIC_CONFIG_FILE_PATH is a file mounted from the repository');
    assert.doesNotThrow(() => parse(fs.readFileSync(repoFile(dc.source)!, 'utf8')));
  });

  test('the schema job creates and migrates both databases', () => {
    const script = entrypointScript(service('temporal-admin-tools'));
    for (const step of [/temporal-sql-tool\b[^\n]*\bcreate-database\b/, /temporal-sql-tool\b[^\n]*\bsetup-schema -v 0\.0\b/, /temporal-sql-tool\b[^\n]*\bupdate-schema -d\b/]) {
      assert.match(script, step);
    }
    assert.match(script, /\/etc\/temporal\/schema\/postgresql\/v12\b/);
    assert.match(script, /prepare "\$DBNAME" temporal\b/);
    assert.match(script, /prepare "\$VISIBILITY_DBNAME" visibility\b/);
    assert.match(script, /^set -eu/m, 'a failing step fails the job, so the server does not start');
  });

  test('the namespace and every search attribute grokflow sets are registered', () => {
    const s = service('temporal-setup');
    const e = env(s);
    assert.equal(hostOf(e.TEMPORAL_ADDRESS ?? '').host, 'temporal');
    const wanted = Object.fromEntries((e.SEARCH_ATTRIBUTES ?? '').trim().split(/\s+/).map((p) => p.split('=')));
    // The same names and types the master registers and the slave workflows set.
    assert.deepEqual(wanted, Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, a]) => [name, a.cli])));
    const script = entrypointScript(s);
    assert.match(script, /for pair in \$SEARCH_ATTRIBUTES/);
    assert.match(script, /temporal operator search-attribute create\b/);
    assert.match(script, /temporal operator namespace create\b/);
  });

  test('the Web UI talks to the temporal service on 8080', () => {
    const ui = service('temporal-ui');
    assert.equal(env(ui).TEMPORAL_ADDRESS, 'temporal:7233');
    assert.ok((ui.ports ?? []).some((p) => String(typeof p === 'object' ? p.target : p).endsWith('8080')), 'ui publishes 8080');
  });

  test('the web console: grokflow settings only, a token it must be given, the files it shows mounted read-only', () => {
    const web = service('web');
    const e = env(web);
    const known = new Set(Object.keys(configSchema.shape));
    for (const key of Object.keys(e)) assert.ok(known.has(key), `web sets ${key}, which is not a grokflow setting`);
    assert.equal(e.WEB_HOST, '0.0.0.0');
    // Beyond loopback the console refuses to start without a token: compose asks for it up front.
    assert.match(e.WEB_TOKEN ?? '', /^\$\{WEB_TOKEN:\?[^}]+\}$/);
    const literal = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== '' && !v.includes('${')));
    const parsed = configSchema.safeParse(literal);
    assert.ok(parsed.success, `web: ${parsed.error?.message}`);
    assert.ok((web.ports ?? []).some((p) => String(p).endsWith(`:${parsed.data!.WEB_PORT}`)), 'web publishes WEB_PORT');
    const byTarget = new Map(mounts(web).map((m) => [m.target, m]));
    for (const key of ['DOWNLOADS_DIR', 'ARTIFACTS_DIR'] as const) {
      const m = byTarget.get(e[key]!);
      assert.ok(m?.readOnly, `web mounts ${key} (${e[key]}) read-only`);
      assert.ok(mounts(service('slave')).some((s) => s.source === m.source), `web reads the ${key} volume the slaves write`);
    }
  });

  test('every file mounted from the repository exists', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of mounts(s)) {
        const file = repoFile(m.source);
        // ./accounts is the user's: `grokflow accounts login` creates it.
        if (!file || path.relative(root, file) === 'accounts') continue;
        assert.ok(fs.existsSync(file), `${name} mounts ${m.source}, which does not exist`);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');

  test('starts from a pinned Node 20 bookworm-slim image', () => {
    const from = [...lines.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(from.length > 0, 'a FROM line');
    for (const image of from) assertPinned(image, 'Dockerfile');
    assert.match(from[from.length - 1]!, /^node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
  });

  test("installs Debian's chromium, the dependencies, and runs as a non-root user", () => {
    assert.match(lines, /apt-get install[^\n]*\schromium(\s|$)/m);
    assert.match(lines, /\bfonts-/);
    assert.match(lines, /^RUN[^\n]*\bnpm ci\b/m);
    const users = [...lines.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(users.length > 0, 'a USER line');
    assert.ok(!['root', '0', '0:0'].includes(users[users.length - 1]!), 'the last USER is not root');
  });

  test("CMD is the slave service's command, node in exec form", () => {
    const cmd = [...lines.matchAll(/^CMD\s+(.+)$/gm)].map((m) => m[1]!.trim());
    assert.equal(cmd.length, 1, 'one CMD');
    assert.deepEqual(JSON.parse(cmd[0]!), service('slave').command, 'the image alone runs what compose runs');
  });

  test('.dockerignore keeps host state and secrets out of the image', () => {
    const ignored = new Set(read('.dockerignore').split('\n').map((l) => l.trim().replace(/^\/|\/$/g, '')).filter((l) => l && !l.startsWith('#')));
    for (const p of ['node_modules', '.tools', '.data', 'downloads', 'artifacts', 'accounts', '.git']) {
      assert.ok(ignored.has(p), `.dockerignore lists ${p}`);
    }
  });
});

// How Docker stops a container: SIGTERM to the container's main process only (init: true
// puts Docker's init in front, which forwards the signal to its one child and reaps), then
// SIGKILL to everything once stop_grace_period is over. Here the command each compose
// service runs is spawned as it is written there, the signal goes to that process alone,
// and nothing it started may outlive it.
describe('container stop: SIGTERM to the command compose runs', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ slave: false, activityTimeouts: { heartbeat: '4 seconds' } });
  });
  after(async () => {
    await s?.stop();
  });

  function spawnService(name: string, extra: Record<string, string>) {
    const [command, ...args] = hostArgv(composeService(name));
    const service = startProgram(name, command!, args, {
      cwd: root,
      env: { PATH: process.env.PATH, ...s.configEnv, METRICS_PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...extra },
    });
    return {
      child: service.child,
      exited: service.exited.then((e) => e.code),
      until: (pattern: RegExp) => service.waitForOutput(pattern, 120_000),
      output: () => service.output,
    };
  }

  test('slave: the running generation finishes within SHUTDOWN_GRACE_MS, exit 0, no process left', async () => {
    const grace = 30_000;
    const slave = spawnService('slave', { SHUTDOWN_GRACE_MS: String(grace) });
    await slave.until(/"slave ready"/);
    const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt: 'a lighthouse at dusk #sim:slow=4' });
    await s.untilGenerating(id);
    const tree = descendants(slave.child.pid!);
    assert.ok(tree.length > 0, 'the slave runs Chromium');
    process.kill(slave.child.pid!, 'SIGTERM');
    assert.equal(await slave.exited, 0, slave.output());
    // Past the grace time the slave cancels what still runs (the item stays RUNNING for a
    // retry): COMPLETED means it finished within it.
    assert.equal((await s.items(id))[0]?.status, 'COMPLETED', `the generation finished before exit\n${slave.output()}`);
    assert.deepEqual(await survivors(tree, 10_000), [], 'no orphan: Chromium and its helpers are gone');
  });

  test('master and simulator: exit 0 on SIGTERM, no process left', async () => {
    for (const [name, ready, extra] of [
      ['master', /"master ready"/, { NOTIFY_DEBOUNCE_MS: '10' }],
      ['simulator', /SIMULATOR running/, { SIMULATOR_PORT: String(await freeLoopbackPort()) }],
    ] as const) {
      const p = spawnService(name, extra);
      await p.until(ready);
      const tree = descendants(p.child.pid!);
      process.kill(p.child.pid!, 'SIGTERM');
      assert.equal(await p.exited, 0, `${name}:\n${p.output()}`);
      assert.deepEqual(await survivors(tree, 10_000), [], `${name}: no orphan`);
    }
  });
});
