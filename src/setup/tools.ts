import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');

/** Temporal server release of the cluster tools; docker-compose.yml's images carry the same tag. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

/** Go tools grokflow installs into TOOLS_BIN, pinned. */
export const GO_TOOLS = {
  // v1.5.1 is the newest CLI that `go install` accepts: later tags carry a replace directive.
  temporal: { module: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1', ldflags: '', required: true },
  // The new Go linker refuses an old dependency's linkname; this flag is the known way round.
  tctl: { module: 'github.com/temporalio/tctl/cmd/tctl', version: 'v1.18.4', ldflags: '-checklinkname=0', required: false },
  // The PostgreSQL-backed server and its schema tool (`npm run cluster`, the topology test):
  // built only on request (`npm run setup -- --cluster`), a few minutes the first time.
  // The same release as the temporalio/server and admin-tools images in docker-compose.yml.
  'temporal-server': { module: 'go.temporal.io/server/cmd/server', version: TEMPORAL_SERVER_VERSION, ldflags: '', required: false },
  'temporal-sql-tool': { module: 'go.temporal.io/server/cmd/tools/sql', version: TEMPORAL_SERVER_VERSION, ldflags: '', required: false },
} as const;

/** The tools `npm run cluster` needs on top of the default set-up. */
export const CLUSTER_TOOLS = ['temporal-server', 'temporal-sql-tool'] as const satisfies readonly (keyof typeof GO_TOOLS)[];

export type GoTool = keyof typeof GO_TOOLS;

/** Where the set-up puts the Temporal server's SQL schemas (the `SCHEMA_ROOT` of setup-schema.sh is below it). */
export function temporalSchemaDir(): string {
  return path.join(PROJECT_ROOT, '.tools', `temporal-schema-${TEMPORAL_SERVER_VERSION}`);
}

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
