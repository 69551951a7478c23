import { startStack } from '../test/helpers/stack';
async function main() {
  const s = await startStack({ env: { ACCOUNT_CONCURRENCY: '2', SLAVE_CONCURRENT_ACTIVITIES: '6', LOG_LEVEL: 'info' }, simulator: { generationMs: 1500 } });
  s.simulator.rateLimit('bob', 10 * 60_000);
  const post = s.simulator.createPost('default');
  const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => s.insertJob({ imageUrl: post.url, prompt: `a pool of twelve, ${i}` })));
  for (let t = 0; t < 12; t++) {
    await new Promise((r) => setTimeout(r, 5000));
    const j = await s.t.pool.query(`SELECT id, status, account, progress_message FROM jobs ORDER BY id`);
    const l = await s.t.pool.query(`SELECT account, holder, expires_at > now() AS live, unused FROM account_leases`);
    console.error('JOBS', JSON.stringify(j.rows.map((r) => `${r.id}:${r.status}:${r.account}:${r.progress_message ?? ''}`)));
    console.error('LEASES', JSON.stringify(l.rows));
    if (j.rows.every((r) => r.status === 'COMPLETED' || r.status === 'ERROR')) break;
  }
  await s.stop();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
