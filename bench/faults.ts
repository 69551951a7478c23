import { runFaultMatrix } from '../test/helpers/faults';

/** The fault matrix of test/faults.test.ts, as a table: jobs, outcomes, duplicates, recovery. */
export async function runFaultsBench(): Promise<Array<Record<string, unknown>>> {
  const { rows, leftRunning } = await runFaultMatrix({ log: (line) => console.error(line) });
  if (leftRunning.length > 0) console.error(`processes left running: ${leftRunning.join(', ')}`);
  return rows.map((r) => ({
    fault: r.fault, jobs: r.jobs, completed: r.completed, errors: r.errors, duplicates: r.duplicates,
    'recovery s': r.recoverySeconds, 'all ended s': r.doneSeconds,
  }));
}
