import fs from 'node:fs';

// Who runs the embedded dev server of a state file: written next to it by the grokflow that
// started the server, so a later `npm start` can tell its own server (or one a killed
// grokflow left behind) from anything else that answers on the port.

export interface DevServerOwner {
  /** The `temporal server start-dev` process. */
  pid: number;
  /** The grokflow process that started it. */
  parent: number;
  port: number;
}

export function ownerFile(stateFile: string): string {
  return `${stateFile}.owner.json`;
}

export function writeOwner(stateFile: string, owner: DevServerOwner): void {
  fs.writeFileSync(ownerFile(stateFile), JSON.stringify(owner));
}

export function removeOwner(stateFile: string): void {
  fs.rmSync(ownerFile(stateFile), { force: true });
}

/**
 * The recorded server of this state file, when that process still runs and still serves
 * this state file (checked in its command line: a pid can be reused by anything).
 */
export function runningOwner(stateFile: string): DevServerOwner | undefined {
  let owner: DevServerOwner;
  try {
    owner = JSON.parse(fs.readFileSync(ownerFile(stateFile), 'utf8')) as DevServerOwner;
  } catch {
    return undefined;
  }
  return commandLine(owner.pid).includes(stateFile) ? owner : undefined;
}

/** Running (a zombie waiting for its parent counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function commandLine(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
