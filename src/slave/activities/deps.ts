import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import type { Backends } from '../../backends';

export interface SlaveDeps {
  db: Db;
  config: Config;
  logger: Logger;
  /** Every backend by name; an item uses the one its job's plan names. */
  backends: Backends;
}
