import fs from 'node:fs';
import { isAccountName } from '../../shared/accountName';
import type { Config } from '../../shared/config';
import { grokTarget } from '../../shared/grokTarget';
import { profileDir, storageStatePath } from '../../backends/browser/browser';

// Which accounts have a saved session, read from the accounts folder the driver uses (file
// names only: a session's content is never read here).

export type LoginConfig = Parameters<typeof grokTarget>[0] & Pick<Config, 'AUTH_MODE'>;

/** Every account name the accounts folder holds a session for. */
export function savedSessions(config: LoginConfig): string[] {
  const dir = grokTarget(config).accountsDir;
  if (!fs.existsSync(dir)) return [];
  const suffix = config.AUTH_MODE === 'profile' ? '.profile' : '.json';
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, -suffix.length))
    .filter(isAccountName)
    .sort();
}

export function hasSavedSession(config: LoginConfig, account: string): boolean {
  const dir = grokTarget(config).accountsDir;
  return fs.existsSync(config.AUTH_MODE === 'profile' ? profileDir(dir, account) : storageStatePath(dir, account));
}
