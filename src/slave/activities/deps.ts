import type { Client } from '@temporalio/client';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import type { GrokDriver } from '../../backends/browser/driver';

/** The part of the Grok driver the activities use: one method per job kind. */
export type Generator = Pick<GrokDriver, 'generateVideo' | 'generateImage'>;

export interface SlaveDeps {
  db: Db;
  config: Config;
  logger: Logger;
  generator: Generator;
  /** On the worker's connection: starts the callback of a terminated job (jobCallback.ts). */
  client: Client;
}
