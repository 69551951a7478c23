import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort } from '../../src/shared/freePort';

const run = promisify(execFile);

/** A PostgreSQL cluster of a test's own: restarting it harms no other test. */
export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port> (no database). */
  serverUrl: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return path.join(root, versions[0]!, 'bin');
}

/**
 * initdb + pg_ctl in a temp dir of its own on a free port. As root, both run as the
 * `postgres` user (initdb refuses root), which owns the dir.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-pg-'));
  const data = path.join(dir, 'pgdata');
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  const cmd = async (tool: string, args: string[]) => {
    const file = path.join(bin, tool);
    await (asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args));
  };
  if (asRoot) {
    // The postgres user owns the cluster's folder (a temp dir: /tmp lets it in).
    await run('chown', ['-R', 'postgres:postgres', dir]);
  }
  await cmd('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freeLoopbackPort();
  const options = `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const ctl = (action: string, extra: string[] = []) => cmd('pg_ctl', ['-D', data, '-l', path.join(data, 'server.log'), '-w', '-t', '60', ...extra, action]);
  await ctl('start', ['-o', options]);
  return {
    serverUrl: `postgres://postgres@127.0.0.1:${port}`,
    restart: () => ctl('restart', ['-m', 'fast', '-o', options]),
    async stop() {
      await ctl('stop', ['-m', 'immediate']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
