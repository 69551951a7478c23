import path from 'node:path';

/** The browser build of Chart.js (UMD: one file, a global `Chart`, nothing else to load). */
export const CHART_JS_FILE = 'chart.umd.min.js';

/**
 * The folder of Chart.js's browser build in node_modules. Found when asked, not at start:
 * a console on an install without it still serves every other page, and this names the fix.
 */
export function chartJsDir(): string {
  try {
    // The package's main entry lives in dist/, next to the browser build.
    return path.dirname(require.resolve('chart.js'));
  } catch {
    throw Object.assign(new Error('chart.js is not installed: run npm ci'), { statusCode: 503 });
  }
}
