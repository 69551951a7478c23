import crypto from 'node:crypto';
import { traits, type SiteTexts, type UiVariant, type VariantTraits } from './variants';

// Server-rendered HTML of the simulated Grok Imagine. The contract the driver relies on is
// the roles, accessible names, placeholders and visible texts (and, as public Grok automations rely on, the
// `sd-video` id and the `tabular-nums` class). Everything else — ids, class names, the
// order of the blocks — is incidental, and the UI variants (variants.ts) change it the way
// Grok's redesigns do.

/** Stable names for the incidental ids and classes; drift renames them deterministically. */
const NAMES = [
  'app', 'header', 'main', 'media', 'image', 'overlay', 'composer', 'prompt', 'optionsWrap', 'optionsBtn',
  'optionsMenu', 'makeBtn', 'actions', 'downloadBtn', 'moreBtn', 'moreMenu', 'hdBadge', 'toasts', 'toast',
  'ab', 'dialog', 'wall', 'grid', 'imgComposer', 'imgPrompt', 'submitBtn', 'upload', 'btn', 'menuItem',
  'card', 'signIn', 'field', 'progress',
] as const;
export type Name = (typeof NAMES)[number];

export interface Names {
  ids: Record<Name, string>;
  cls: Record<Name, string>;
  /** What the driver reads first (public automations rely on it): `sd-video`; renamed only by aggressive drift. */
  videoId: string;
  /** What the driver reads first (public automations rely on it): the `tabular-nums` span; renamed only by aggressive drift. */
  progressClass: string;
  drift: boolean;
  v: VariantTraits;
  t: SiteTexts;
  editor: 'textarea' | 'contenteditable';
}

export function names(variant: UiVariant): Names {
  const v = traits(variant);
  const drift = v.drift;
  const ids = {} as Record<Name, string>;
  const cls = {} as Record<Name, string>;
  for (const n of NAMES) {
    if (drift) {
      const h = crypto.createHash('sha1').update(`drift:${n}`).digest('hex');
      ids[n] = `r${h.slice(0, 7)}`;
      cls[n] = `css-${h.slice(7, 13)}`;
    } else {
      const kebab = n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      ids[n] = `gi-${kebab}`;
      cls[n] = `gi-${kebab}`;
    }
  }
  return {
    ids,
    cls,
    videoId: v.aggressive ? 'v-player-main' : 'sd-video',
    progressClass: v.aggressive ? 'font-numeric-fixed' : 'tabular-nums',
    drift,
    v,
    t: v.t,
    // Grok's newer UI replaced the textarea by a contenteditable editor: drift does the same.
    editor: drift ? 'contenteditable' : 'textarea',
  };
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.4 system-ui,sans-serif;background:#0b0b0c;color:#eee}
header{display:flex;justify-content:space-between;padding:10px 16px;border-bottom:1px solid #222}
a{color:#9cf}main{max-width:760px;margin:0 auto;padding:16px;display:flex;flex-direction:column;gap:12px}
img,video{max-width:100%;border-radius:12px;display:block}
[hidden]{display:none!important}
button{background:#222;color:#eee;border:1px solid #444;border-radius:999px;padding:6px 14px;cursor:pointer}
button:disabled{opacity:.5}
textarea,[contenteditable]{width:100%;min-height:60px;background:#151516;color:#eee;border:1px solid #333;border-radius:12px;padding:8px}
[contenteditable]:empty:before{content:attr(data-placeholder);color:#777}
[role=menu]{position:absolute;background:#1b1b1d;border:1px solid #333;border-radius:10px;padding:6px;display:flex;flex-direction:column;gap:4px;z-index:5}
[role=menuitemradio][aria-checked=true]{border-color:#9cf}
.rel{position:relative}
[role=alertdialog],[role=dialog]{position:fixed;inset:30% 25% auto;background:#1b1b1d;border:1px solid #444;border-radius:12px;padding:16px;z-index:10}
section[aria-label=Notifications]{position:fixed;bottom:16px;right:16px;display:flex;flex-direction:column;gap:8px}
section[aria-label=Notifications]>div{background:#2a1416;border:1px solid #633;border-radius:10px;padding:10px 14px}
`;

/** The texts the page's own script shows (toasts, the wall, dialogs); the rest is server-rendered. */
const CLIENT_TEXTS = [
  'rateLimited', 'upgrade', 'welcome', 'expiredText', 'signIn', 'signUp', 'generating', 'abQuestion', 'preferVideo', 'select',
  'moderated', 'networkError', 'serverError', 'upscaling', 'deleteTitle', 'deleteText', 'cancel', 'delete', 'makeVideo', 'redo',
  'deleted', 'uploadFailed', 'generatedImage',
] as const satisfies ReadonlyArray<keyof SiteTexts>;
const clientTexts = (t: SiteTexts) => Object.fromEntries(CLIENT_TEXTS.map((k) => [k, t[k]]));

export interface LayoutArgs {
  title: string;
  n: Names;
  user?: { name: string; id: string };
  body: string;
  data?: Record<string, unknown>;
  quietDom?: boolean;
}

export function layout({ title, n, user, body, data, quietDom }: LayoutArgs): string {
  const sim: Record<string, unknown> = { ids: n.ids, cls: n.cls, videoId: n.videoId, progressClass: n.progressClass, editor: n.editor, drift: n.drift, stream: n.v.stream, t: clientTexts(n.t), ...data };
  if (quietDom) sim.quietDom = true;
  // JSON inside <script>: escape "<" so no string can close the element.
  const json = JSON.stringify(sim).replace(/</g, '\\u003c');
  const header = `<header id="${n.ids.header}" class="${n.cls.header}"><a href="/imagine">Grok Imagine</a>${
    user ? `<nav aria-label="Account"><span>${esc(user.name)}</span></nav>` : ''
  }</header>`;
  return `<!doctype html>
<html lang="${n.t.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><div id="${n.ids.app}" class="${n.cls.app}">${header}${body}</div>
<section id="${n.ids.toasts}" class="${n.cls.toasts}" aria-label="Notifications" aria-live="polite"></section>
<script>window.__SIM__=${json};</script><script src="/static/imagine.js"></script></body></html>`;
}

export function loginWallBody(n: Names, next: string): string {
  const { t } = n;
  return `<main id="${n.ids.wall}" class="${n.cls.wall}"><h1>${esc(t.welcome)}</h1><p>${esc(t.wallText)}</p>
<p><a class="${n.cls.btn}" href="/sign-in?next=${encodeURIComponent(next)}">${esc(t.signIn)}</a> <a class="${n.cls.btn}" href="/sign-up">${esc(t.signUp)}</a></p></main>`;
}

export interface PostView {
  postId: string;
  imageUrl: string;
  video?: { videoId: string; url: string; hd: boolean };
}

export function postBody(n: Names, post: PostView): string {
  const { ids, cls, t } = n;
  const video = post.video;
  const editor =
    n.editor === 'textarea'
      ? `<textarea id="${ids.prompt}" class="${cls.prompt}" aria-label="${esc(t.promptBox)}" placeholder="${esc(t.promptPlaceholder)}"></textarea>`
      : `<div id="${ids.prompt}" class="${cls.prompt}" contenteditable="true" role="textbox" aria-multiline="true" aria-label="${esc(t.promptBox)}" data-placeholder="${esc(t.promptPlaceholder)}"></div>`;
  const durations = ['6s', '10s'];
  const resolutions = ['480p', '720p'];
  const aspects = ['2:3', '3:2', '1:1', '9:16', '16:9'];
  const modes: Array<[string, string]> = [['normal', t.modeNormal], ['fun', t.modeFun], ['spicy', t.modeSpicy], ['custom', t.modeCustom]];
  if (n.drift) {
    durations.reverse();
    resolutions.reverse();
    modes.reverse();
  }
  // plain-menus: no roles anywhere in the menus, every choice a plain button.
  const plain = n.v.plainMenus;
  const menuRole = plain ? '' : ' role="menu"';
  const item = (group: string, v: string, label: string, checked: boolean) =>
    plain
      ? `<button type="button" class="${cls.menuItem}" data-opt="${group}" data-value="${v}">${esc(label)}</button>`
      : `<button type="button" role="menuitemradio" class="${cls.menuItem}" data-opt="${group}" data-value="${v}" aria-checked="${checked}">${esc(label)}</button>`;
  const group = (label: string, body: string) => (plain ? `<div>${body}</div>` : `<div role="group" aria-label="${esc(label)}">${body}</div>`);
  const optionsMenu = `<div id="${ids.optionsMenu}" class="${cls.optionsMenu}"${menuRole} aria-label="${esc(t.videoOptions)}" hidden>
${group(t.duration, durations.map((d) => item('duration', d, d, d === '6s')).join(''))}
${group(t.resolution, resolutions.map((r) => item('resolution', r, r, r === '480p')).join(''))}
${group(t.aspectRatio, aspects.map((a) => item('aspectRatio', a, a, a === '2:3')).join(''))}
${group(t.mode, modes.map(([m, label]) => item('mode', m, label, m === 'normal')).join(''))}</div>`;
  const make = video ? t.redo : t.makeVideo;
  const composer = `<form id="${ids.composer}" class="${cls.composer}" aria-label="Video composer">${editor}
<div class="rel ${cls.optionsWrap}" id="${ids.optionsWrap}"><button type="button" id="${ids.optionsBtn}" class="${cls.optionsBtn}" aria-label="${esc(t.videoOptions)}" aria-haspopup="menu" aria-expanded="false"><span>6s · 480p</span></button>${optionsMenu}</div>
<button type="submit" id="${ids.makeBtn}" class="${cls.makeBtn}" aria-label="${esc(make)}">${esc(make)}</button></form>`;
  const videoEl = video
    ? `<video id="${n.videoId}" src="${esc(video.url)}" autoplay muted loop playsinline></video>`
    : '';
  const media = `<section id="${ids.media}" class="rel ${cls.media}" aria-label="${esc(t.postMedia)}">
<img id="${ids.image}" class="${cls.image}" alt="${esc(t.generatedImage)}" src="${esc(post.imageUrl)}">${videoEl}
<span id="${ids.hdBadge}" class="${cls.hdBadge}" ${video?.hd ? '' : 'hidden'}>HD</span></section>`;
  const actionsOrder: Array<['upscale' | 'extend' | 'delete', string]> = [['upscale', t.upscale], ['extend', t.extend], ['delete', t.delete]];
  if (n.drift) actionsOrder.reverse();
  const moreMenu = `<div id="${ids.moreMenu}" class="${cls.moreMenu}"${menuRole} aria-label="${esc(t.moreOptions)}" hidden>
${actionsOrder.map(([a, label]) => `<button type="button"${plain ? '' : ' role="menuitem"'} class="${cls.menuItem}" data-action="${a}">${esc(label)}</button>`).join('')}</div>`;
  const actions = `<div id="${ids.actions}" class="rel ${cls.actions}" role="toolbar" aria-label="${esc(t.postActions)}">
<button type="button" id="${ids.downloadBtn}" class="${cls.downloadBtn}" aria-label="${esc(t.download)}" ${video ? '' : 'hidden'}>${esc(t.download)}</button>
<button type="button" id="${ids.moreBtn}" class="${cls.moreBtn}" aria-label="${esc(t.moreOptions)}" aria-haspopup="menu" ${video ? '' : 'hidden'}>···</button>${moreMenu}</div>`;
  // Drift reorders the blocks, as a redesign would.
  const blocks = n.drift ? [actions, composer, media] : [media, composer, actions];
  return `<main id="${ids.main}" class="${cls.main}">${blocks.join('\n')}</main>`;
}

export function composerBody(n: Names): string {
  const { ids, cls, t } = n;
  const editor =
    n.editor === 'textarea'
      ? `<textarea id="${ids.imgPrompt}" class="${cls.imgPrompt}" aria-label="${esc(t.imaginePrompt)}" placeholder="${esc(t.imaginePlaceholder)}"></textarea>`
      : `<div id="${ids.imgPrompt}" class="${cls.imgPrompt}" contenteditable="true" role="textbox" aria-label="${esc(t.imaginePrompt)}" data-placeholder="${esc(t.imaginePlaceholder)}"></div>`;
  const upload = `<label class="${cls.upload}">${esc(t.uploadImage)} <input id="${ids.upload}" type="file" accept="image/*" aria-label="${esc(t.uploadImage)}"></label>`;
  const form = `<form id="${ids.imgComposer}" class="${cls.imgComposer}" aria-label="Imagine composer">${editor}
<button type="submit" id="${ids.submitBtn}" class="${cls.submitBtn}" aria-label="${esc(t.submit)}">${esc(t.submit)}</button></form>`;
  const grid = `<section id="${ids.grid}" class="rel ${cls.grid}" aria-label="${esc(t.generatedImages)}"><ul role="list"></ul></section>`;
  const blocks = n.drift ? [upload, form, grid] : [form, upload, grid];
  return `<main id="${ids.main}" class="${cls.main}"><h1>Imagine</h1>${blocks.join('\n')}</main>`;
}

export function signInBody(n: Names, next: string, error?: string): string {
  const { ids, cls } = n;
  return `<main id="${ids.signIn}" class="${cls.signIn}"><h1>Sign in</h1>
${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/sign-in" aria-label="Sign in">
<label class="${cls.field}">Email or username <input name="username" autocomplete="username" required></label>
<label class="${cls.field}">Password <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="${esc(next)}">
<button type="submit">Sign in</button></form>
<p>No account? <a href="/sign-up">Sign up</a></p></main>`;
}

export function messageBody(n: Names, heading: string, text: string): string {
  return `<main id="${n.ids.main}" class="${n.cls.main}"><h1>${esc(heading)}</h1><p>${esc(text)}</p></main>`;
}
