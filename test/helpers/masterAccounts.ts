import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Settings that give a master with no slave room to claim (the capacity claim starts a job
 * only on an account that can take it, and nobody adopts its reservation here): `sessions`
 * saved sessions in a fresh accounts folder (the master reads their names only), 100 slots
 * each, no gap. `cleanup` removes the folder.
 */
export function masterAccountsEnv(sessions = 10): { env: Record<string, string>; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-master-accounts-'));
  for (let i = 0; i < sessions; i++) fs.writeFileSync(path.join(dir, `master-test-${i}.json`), '{}', { mode: 0o600 });
  return {
    // The tests' posts are grok.com URLs: the claim takes them only for that Grok (nothing connects to it).
    env: { GROK_BASE_URL: 'https://grok.com', ACCOUNTS_DIR: dir, ACCOUNT_CONCURRENCY: '100', ACCOUNT_MIN_GAP_MS: '0' },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
