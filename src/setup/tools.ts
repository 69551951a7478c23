import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');

/** Go tools grokflow installs into TOOLS_BIN, pinned. */
export const GO_TOOLS = {
  // v1.5.1 is the newest CLI that `go install` accepts: later tags carry a replace directive.
  temporal: { module: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1', ldflags: '', required: true },
  // The new Go linker refuses an old dependency's linkname; this flag is the known way round.
  tctl: { module: 'github.com/temporalio/tctl/cmd/tctl', version: 'v1.18.4', ldflags: '-checklinkname=0', required: false },
  // An S3-compatible server (POSIX backend) the storage tests run against; optional otherwise.
  versitygw: { module: 'github.com/versity/versitygw/cmd/versitygw', version: 'v1.8.0', ldflags: '', required: false },
} as const;

export type GoTool = keyof typeof GO_TOOLS;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The project's pinned copy, else one on PATH; undefined when neither exists. */
export function findTool(tool: GoTool): string | undefined {
  const pinned = path.join(TOOLS_BIN, tool);
  return fs.existsSync(pinned) ? pinned : onPath(tool);
}

export function toolPath(tool: GoTool): string {
  const found = findTool(tool);
  if (!found) throw new Error(`${tool} is not installed: run \`npm run setup\``);
  return found;
}
