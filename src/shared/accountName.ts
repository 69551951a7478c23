// One rule for account names, shared by the payload schema, the CLI and the slave's
// storage-state paths: a name that can never leave the accounts folder.
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const ACCOUNT_NAME_RULE = 'letters, digits, "_", "." or "-", at most 64, starting with a letter or digit, no ".."';

export function isAccountName(name: string): boolean {
  return ACCOUNT_NAME.test(name) && !name.includes('..');
}
