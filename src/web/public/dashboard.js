// grokflow dashboard: draws each <canvas data-chart> with Chart.js (served by the console
// from node_modules, see server.ts). The server decides the data, labels and colours
// (src/web/dashboardPage.ts); this only turns them into Chart.js options.
(() => {
  'use strict';
  if (typeof Chart === 'undefined') {
    for (const c of document.querySelectorAll('canvas[data-chart]')) c.replaceWith(Object.assign(document.createElement('p'), { className: 'error', textContent: 'Chart.js did not load: see the console\'s log.' }));
    return;
  }
  const format = {
    count: (v) => String(v),
    percent: (v) => `${v} %`,
    usd: (v) => `$${Number(v).toFixed(2)}`,
    seconds: (v) => `${v} s`,
  };
  for (const canvas of document.querySelectorAll('canvas[data-chart]')) {
    const spec = JSON.parse(canvas.dataset.chart);
    const fmt = format[spec.unit];
    const chart = new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d) => ({
          label: d.label,
          data: d.data,
          backgroundColor: d.color,
          borderColor: d.color,
          borderWidth: spec.type === 'line' ? 2 : 0,
          pointRadius: spec.type === 'line' ? 3 : 0,
        })),
      },
      options: {
        // Drawn at once: a screenshot or a glance shows the final chart, not a frame of it.
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { callback: fmt } },
        },
        plugins: {
          legend: { display: spec.datasets.length > 1, position: 'bottom' },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed.y)}` } },
        },
      },
    });
    // What a test (or a curious reader) can check: how many series and points were drawn.
    canvas.dataset.series = String(chart.data.datasets.length);
    canvas.dataset.points = String(chart.data.datasets.reduce((n, d) => n + d.data.length, 0));
  }
  document.body.dataset.charts = 'drawn';
})();
