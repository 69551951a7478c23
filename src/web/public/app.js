// grokflow web console: live updates from /events (server-sent events fed by Postgres
// LISTEN/NOTIFY). The server renders every row; this only moves numbers and asks the
// server for rows it has not shown yet.
(() => {
  'use strict';
  const table = document.querySelector('table[data-live-jobs]');
  const single = document.querySelector('[data-live-job]');
  if (!table && !single) return;

  const setProgress = (root, e) => {
    const bar = root.querySelector('progress');
    if (bar) bar.value = e.progress;
    const pct = root.querySelector('.pct');
    if (pct) pct.textContent = `${e.progress}%`;
    const message = root.querySelector('.message');
    if (message && e.message !== null) message.textContent = e.message;
  };

  const rowFromServer = async (id) => {
    const filter = table.dataset.filter ? `?${table.dataset.filter}` : '';
    const res = await fetch(`/jobs/${id}/row${filter}`, { credentials: 'same-origin' });
    if (res.status !== 200) return null;
    const tpl = document.createElement('template');
    tpl.innerHTML = (await res.text()).trim();
    return tpl.content.firstElementChild;
  };

  const count = (status, delta) => {
    const el = document.querySelector(`[data-count="${status}"]`);
    if (el) el.textContent = String(Number(el.textContent) + delta);
  };

  const onTableEvent = async (e) => {
    if (e.from !== e.status) {
      if (e.from) count(e.from, -1);
      count(e.status, +1);
    }
    const body = table.tBodies[0];
    const row = body.querySelector(`tr[data-job="${e.id}"]`);
    if (row && e.from === e.status) return setProgress(row, e);
    // A new job, or a status change: the server renders the row (status, error message).
    const fresh = await rowFromServer(e.id);
    if (row && fresh) row.replaceWith(fresh);
    else if (fresh) {
      const after = [...body.rows].find((r) => Number(r.dataset.job) < e.id);
      body.insertBefore(fresh, after ?? null);
      document.querySelector('.empty')?.remove();
    }
  };

  const onJobEvent = (e) => {
    // A status change brings items, files and events: the server renders them.
    if (e.from !== e.status || e.status !== single.dataset.jobStatus) return location.reload();
    setProgress(single, e);
  };

  // The server says whether the job has ended (jobs/statuses.ts): no events follow then.
  if (single && single.dataset.jobFinal === 'true') return;
  const source = new EventSource(single ? `/events?job=${single.dataset.liveJob}` : '/events');
  let lost = false;
  // data-live says whether the page is following the jobs (for a glance, and for tests).
  source.addEventListener('error', () => { lost = true; document.body.dataset.live = 'reconnecting'; });
  // Back after a drop: events may have been missed, so show the current state.
  source.addEventListener('open', () => {
    if (lost) return location.reload();
    document.body.dataset.live = 'connected';
  });
  let queue = Promise.resolve();
  source.addEventListener('message', (m) => {
    const e = JSON.parse(m.data);
    queue = queue.then(() => (table ? onTableEvent(e) : onJobEvent(e))).catch(() => undefined);
  });
})();

// The gallery: a video tile plays (muted, looping) while the pointer is on it, and a
// click on it toggles playing without leaving the page (the caption links to the job).
(() => {
  'use strict';
  const gallery = document.querySelector('.gallery');
  if (!gallery) return;
  const videoOf = (e) => e.target.closest?.('.tile')?.querySelector('video');
  gallery.addEventListener('mouseover', (e) => { videoOf(e)?.play().catch(() => undefined); });
  gallery.addEventListener('mouseout', (e) => {
    const v = videoOf(e);
    if (v && !v.closest('.tile').contains(e.relatedTarget)) v.pause();
  });
  gallery.addEventListener('click', (e) => {
    const v = videoOf(e);
    if (!v || !e.target.closest('.poster')) return;
    e.preventDefault();
    if (v.paused) v.play().catch(() => undefined);
    else v.pause();
  });
})();
