// Server-side HTML with every interpolated value escaped unless it is already Html. A
// tagged template is all the console needs: a template engine would add a dependency and
// a second syntax for a handful of pages.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

/** html`<p>${userText}</p>`: the values are escaped, nested html`` and arrays of it are not. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => { out += render(v) + strings[i + 1]!; });
  return new Html(out);
}

export interface PageOptions {
  title: string;
  /** The CSRF token the page's forms send. */
  csrf?: string;
  /** false: no navigation (the login page). */
  nav?: boolean;
  /** The CSRF token of the Log out button, shown when the browser is logged in by a session. */
  logout?: string;
  /** Shown above every page's content (what is paused). */
  banner?: Html;
}

export function page(o: PageOptions, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · grokflow</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
${o.nav === false ? '' : html`<header><a class="brand" href="/">grokflow</a><nav><a href="/">Jobs</a><a href="/jobs/new">Add a job</a><a href="/accounts">Accounts</a><a href="/gallery">Gallery</a><a href="/dashboard">Dashboard</a><a href="/jobs/import">Import</a><a href="/pauses">Pauses</a></nav>${o.logout ? postButton('/logout', 'Log out', o.logout, 'logout') : ''}</header>`}
${o.banner ?? ''}
<main>
${body}
</main>
</body>
</html>
`.text;
}

/** A POST form with its CSRF token: the only way the console changes anything. */
export function postButton(action: string, label: string, csrf: string, cls = ''): Html {
  return html`<form method="post" action="${action}" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="${cls}">${label}</button></form>`;
}
