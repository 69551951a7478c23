import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Table from 'cli-table3';
import { runFaultMatrix } from './helpers/faults';

// Every fault survived: a PostgreSQL, a Temporal dev server, a master and a slave process of
// this test's own, one-video jobs in flight on the simulator, and one fault at a time
// (test/helpers/faults.ts). `npm run bench -- faults` prints the same matrix.

describe('faults: kill -9, database and Temporal restarts', () => {
  test('after each fault every job ends COMPLETED or ERROR, none twice, one forward path, nothing left running', async () => {
    const { rows, leftRunning } = await runFaultMatrix({ log: (line) => console.log(`# ${line}`) });
    const table = new Table({ style: { head: [], border: [] }, head: ['fault', 'jobs', 'completed', 'errors', 'duplicates', 'recovery s', 'all ended s'] });
    for (const r of rows) table.push([r.fault, r.jobs, r.completed, r.errors, r.duplicates, r.recoverySeconds, r.doneSeconds]);
    console.log(table.toString().split('\n').map((l) => `# ${l}`).join('\n'));

    assert.equal(rows.length, 5, 'every fault ran');
    for (const r of rows) {
      assert.equal(r.completed + r.errors, r.jobs, `${r.fault}: every job ended`);
      assert.equal(r.duplicates, 0, `${r.fault}: ${r.problems.join('; ')}`);
      // The dispatch fault's jobs are cancelled once started (see helpers/faults.ts); the others generate.
      if (r.fault.startsWith('kill -9 master')) assert.equal(r.errors, r.jobs, `${r.fault}: all cancelled after their one start`);
      else assert.ok(r.completed > 0, `${r.fault}: jobs still complete`);
    }
    assert.deepEqual(leftRunning, [], 'no process left running');
  });
});
