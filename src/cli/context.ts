import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { ACCOUNT_NAME_RULE, isAccountName } from '../shared/accountName';
import { loadConfig, type Config } from '../shared/config';
import { createDb, createPool, type Db } from '../shared/db/client';

/** What commands need, opened on first use and closed once at exit. */
export class CliContext {
  readonly config: Config = loadConfig();
  private pool?: Pool;
  private _db?: Db;
  private client?: Client;

  get db(): Db {
    if (!this._db) {
      this.pool = createPool(this.config.DATABASE_URL, { max: 2 });
      this._db = createDb(this.pool);
    }
    return this._db;
  }

  get databaseUrl(): string {
    return this.config.DATABASE_URL;
  }

  async temporal(): Promise<Client> {
    // Loaded on first use: most commands never talk to Temporal, and its SDK is slow to load.
    const { connectClient, temporalAddress } = await import('../shared/temporal');
    try {
      this.client ??= await connectClient(this.config);
    } catch (err) {
      throw new CliError(`cannot reach Temporal at ${temporalAddress(this.config)} (TEMPORAL_ADDRESS): ${(err as Error).message}`, ExitCode.Failure);
    }
    return this.client;
  }

  async close(): Promise<void> {
    await this.client?.connection.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
  }
}

/** An error whose message is for the user, with the exit code a script can rely on. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.Failure) {
    super(message);
  }
}

export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, NotFound: 3 } as const;

export function checkAccountName(name: string): string {
  if (!isAccountName(name)) throw new CliError(`invalid account name "${name}": ${ACCOUNT_NAME_RULE}`, ExitCode.Usage);
  return name;
}
