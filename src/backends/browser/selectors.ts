import type { Locator, Page } from 'playwright';
import { failed } from './types';

// EVERY selector, visible text and URL shape the Grok driver relies on lives here, each
// with fallbacks in priority order: role + accessible name first, then label/placeholder or
// visible text, then CSS. When Grok redesigns its UI, this is the one file to edit.

type AriaRole = Parameters<Page['getByRole']>[0];
export type Root = Page | Locator;

export interface Sel {
  /** Human description, used in error messages ("could not find <description>"). */
  description: string;
  role?: { role: AriaRole; name?: string | RegExp; exact?: boolean };
  label?: string | RegExp;
  placeholder?: string | RegExp;
  text?: string | RegExp;
  css?: string[];
}

/**
 * The visible texts and accessible names the driver reads, per UI language (Grok shows the
 * account's language). A new language is one more column here; every selector below matches
 * any of them.
 */
export const LOCALES = {
  en: {
    promptBox: 'Make a video',
    promptPlaceholder: 'Type to customize video...',
    makeVideo: 'Make video',
    redo: 'Redo',
    videoOptions: 'Video Options',
    moreOptions: 'More options',
    upscale: 'Upscale video',
    delete: 'Delete',
    download: 'Download',
    moderated: 'Content Moderated',
    rateLimited: 'Rate limit reached',
    upgrade: 'Upgrade to unlock more',
    serverError: 'Server failed to respond',
    networkError: 'Network error',
    abQuestion: 'Which video do you prefer?',
    preferVideo: 'Prefer video',
    select: 'Select',
    postNotFound: 'Post not found',
    signIn: 'Sign in',
    signUp: 'Sign up',
    imaginePlaceholder: 'Type to imagine',
    submit: 'Submit',
    uploadImage: 'Upload image',
    extend: 'Extend video',
    modeNormal: 'Normal',
    modeFun: 'Fun',
    modeSpicy: 'Spicy',
    modeCustom: 'Custom',
  },
  fr: {
    promptBox: 'Créer une vidéo',
    promptPlaceholder: 'Tapez pour personnaliser la vidéo...',
    makeVideo: 'Générer la vidéo',
    redo: 'Refaire',
    videoOptions: 'Options vidéo',
    moreOptions: "Plus d'options",
    upscale: 'Améliorer la vidéo',
    delete: 'Supprimer',
    download: 'Télécharger',
    moderated: 'Contenu modéré',
    rateLimited: 'Limite atteinte',
    upgrade: 'Passez à SuperGrok',
    serverError: "Le serveur n'a pas répondu",
    networkError: 'Erreur réseau',
    abQuestion: 'Quelle vidéo préférez-vous ?',
    preferVideo: 'Préférer la vidéo',
    select: 'Choisir',
    postNotFound: 'Publication introuvable',
    signIn: 'Se connecter',
    signUp: "S'inscrire",
    imaginePlaceholder: 'Tapez pour imaginer',
    submit: 'Envoyer',
    uploadImage: 'Importer une image',
    extend: 'Prolonger la vidéo',
    modeNormal: 'Normal',
    modeFun: 'Amusant',
    modeSpicy: 'Épicé',
    modeCustom: 'Personnalisé',
  },
} as const satisfies Record<string, Record<string, string>>;

type TextKey = keyof (typeof LOCALES)['en'];
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every language's text for the keys, as one pattern: the whole text (default) or a prefix. */
export function say(keys: TextKey | TextKey[], how: 'whole' | 'starts' = 'whole'): RegExp {
  const all = [keys].flat().flatMap((k) => Object.values(LOCALES).map((l) => escapeRe(l[k])));
  return new RegExp(`^\\s*(?:${[...new Set(all)].join('|')})${how === 'whole' ? '\\s*$' : ''}`, 'i');
}

/** Every language's text for a key (for attribute selectors). */
export const allOf = (key: TextKey): string[] => [...new Set(Object.values(LOCALES).map((l) => l[key]))];

/** Visible texts and patterns (not elements). */
export const TEXTS = {
  moderated: say('moderated', 'starts'),
  rateLimited: say('rateLimited', 'starts'),
  upgrade: say('upgrade', 'starts'),
  serverError: say('serverError', 'starts'),
  networkError: new RegExp(`${say('networkError', 'starts').source}|connection (was )?lost|check your connection`, 'i'),
  abQuestion: say('abQuestion'),
  postNotFound: new RegExp(`${say('postNotFound', 'starts').source}|doesn.t exist|was deleted`, 'i'),
  signInFailed: /Wrong (username|email) or password|incorrect password/i,
  /** A progress percentage such as "37%". */
  percent: /^\s*(\d{1,3})\s*%\s*$/,
  /** A waiting time inside a rate-limit message: "Try again in 15 minutes". */
  cooldown: /(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|heures?)\b/i,
  /** Duration choices in the Video Options menu ("10s", "10 s"). */
  durationOption: /^\s*(\d+)\s*s\s*$/,
  resolutionOption: /^\s*(\d+)\s*p\s*$/,
  aspectOption: /^\s*(\d+)\s*:\s*(\d+)\s*$/,
  modeOption: say(['modeNormal', 'modeFun', 'modeSpicy', 'modeCustom']),
} as const;

const MODE_KEYS = { modeNormal: 'normal', modeFun: 'fun', modeSpicy: 'spicy', modeCustom: 'custom' } as const;

/** 'normal' | 'fun' | 'spicy' | 'custom' for a mode item's text in any language. */
export function modeOf(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  for (const l of Object.values(LOCALES)) {
    for (const [k, mode] of Object.entries(MODE_KEYS)) if (l[k as keyof typeof MODE_KEYS].toLowerCase() === t) return mode;
  }
  return undefined;
}

/** URL shapes. */
export const URLS = {
  composer: (base: string) => new URL('/imagine', base).toString(),
  post: (base: string, postId: string) => new URL(`/imagine/post/${postId}`, base).toString(),
  isPost: (url: string) => /\/imagine\/post\/[0-9a-zA-Z-]+/.test(new URL(url).pathname),
  /** Real Grok signs in on accounts.x.ai; the simulator on its own /sign-in. */
  signIn: (base: string) =>
    /(^|\.)grok\.com$/.test(new URL(base).hostname)
      ? 'https://accounts.x.ai/sign-in?redirect=grok-com'
      : new URL('/sign-in?next=%2Fimagine', base).toString(),
  /** Grok's generation request, whose response streams the generation's JSON lines. */
  isGenerationStream: (url: string) => /\/rest\/app-chat\/conversations\/new\b/.test(new URL(url).pathname),
  /** Grok's upscale call, answering `hdMediaUrl`. */
  isUpscaleCall: (url: string) => /\/rest\/media\/video\/upscale$/.test(new URL(url).pathname),
  isSignIn: (url: string) => /\/sign-in\b|accounts\.x\.ai/.test(url),
  /** `…/generated/<videoId>/generated_video(_hd).mp4` */
  videoId: (url: string) => /\/generated\/([^/]+)\/generated_video(?:_hd)?\.mp4/.exec(url)?.[1],
  isHdVideo: (url: string) => /generated_video_hd\.mp4/.test(url),
  hdOf: (url: string) => url.replace(/generated_video\.mp4/, 'generated_video_hd.mp4'),
} as const;

export const SEL = {
  // --- post page: composer ---
  promptBox: {
    description: 'the "Make a video" prompt box',
    role: { role: 'textbox', name: say('promptBox') },
    placeholder: say('promptPlaceholder'),
    css: ['form textarea', 'form [contenteditable="true"]'],
  },
  makeVideo: {
    description: 'the "Make video" button',
    role: { role: 'button', name: say(['makeVideo', 'redo']) },
    text: say(['makeVideo', 'redo']),
    css: ['form button[type="submit"]'],
  },
  videoOptions: {
    description: 'the "Video Options" menu button',
    role: { role: 'button', name: say('videoOptions') },
    css: ['button[aria-haspopup="menu"][aria-label*="Options" i]'],
  },
  // --- post page: generation ---
  progress: {
    description: 'the progress percentage',
    css: ['.tabular-nums'],
    text: /^\s*\d{1,3}\s*%\s*$/,
  },
  resultVideo: {
    description: 'the generated video',
    css: ['video#sd-video', 'main video', 'video'],
  },
  abQuestion: {
    description: 'the A/B "Which video do you prefer?" choice',
    role: { role: 'region', name: TEXTS.abQuestion },
    text: TEXTS.abQuestion,
  },
  abChoice: {
    description: 'a "prefer this video" button',
    role: { role: 'button', name: say('preferVideo', 'starts') },
    text: say('select'),
  },
  // --- toasts and walls ---
  moderatedToast: { description: 'the content-moderated toast', text: TEXTS.moderated },
  rateLimitToast: { description: 'the rate-limit message', text: TEXTS.rateLimited },
  upgradeLink: { description: 'the upgrade offer', role: { role: 'link', name: TEXTS.upgrade }, text: TEXTS.upgrade },
  serverErrorToast: { description: 'the server-error toast', text: TEXTS.serverError },
  networkErrorToast: { description: 'the network-error toast', text: TEXTS.networkError },
  signInLink: {
    description: 'the "Sign in" link of the login wall',
    role: { role: 'link', name: say('signIn') },
    css: ['a[href*="sign-in"]'],
  },
  signUpLink: {
    description: 'the "Sign up" link of the login wall',
    role: { role: 'link', name: say('signUp') },
    css: ['a[href*="sign-up"]'],
  },
  notFound: { description: 'the post-not-found page', role: { role: 'heading', name: TEXTS.postNotFound }, text: TEXTS.postNotFound },
  // --- post page: actions ---
  download: { description: 'the "Download" button', role: { role: 'button', name: say('download') }, text: say('download') },
  moreOptions: {
    description: 'the "More options" menu button',
    role: { role: 'button', name: say('moreOptions') },
    css: allOf('moreOptions').map((n) => `button[aria-label="${n}"]`),
  },
  upscaleItem: { description: 'the "Upscale video" menu item', role: { role: 'menuitem', name: say('upscale') }, text: say('upscale') },
  extendItem: { description: 'the "Extend video" menu item', role: { role: 'menuitem', name: say('extend') }, text: say('extend') },
  deleteItem: { description: 'the "Delete" menu item', role: { role: 'menuitem', name: say('delete') }, text: say('delete') },
  confirmDialog: {
    description: 'the delete confirmation dialog',
    role: { role: 'alertdialog' },
    css: ['[role="dialog"]', '[aria-modal="true"]'],
  },
  confirmDelete: { description: 'the dialog\'s "Delete" button', role: { role: 'button', name: say('delete') }, text: say('delete') },
  hdBadge: { description: 'the "HD" badge', text: /^HD$/ },
  // --- composer (/imagine) ---
  imaginePrompt: {
    description: 'the Imagine prompt box',
    role: { role: 'textbox', name: /Imagine|prompt/i },
    placeholder: new RegExp(`${say('imaginePlaceholder', 'starts').source}|What do you want to see`, 'i'),
    css: ['main textarea', 'main [contenteditable="true"]'],
  },
  imagineSubmit: {
    description: 'the Imagine submit button',
    role: { role: 'button', name: new RegExp(`${say('submit').source}|^Generate$`, 'i') },
    css: ['form button[type="submit"]'],
  },
  uploadInput: {
    description: 'the image upload input',
    label: say('uploadImage'),
    css: ['input[type="file"]'],
  },
  generatedImages: {
    description: 'the generated images',
    css: ['section[aria-label="Generated images"] a[href*="/imagine/post/"] img', 'main a[href*="/imagine/post/"] img'],
  },
  // --- sign-in ---
  username: { description: 'the username field', label: /Email or username|Email/i, css: ['input[name="username"]', 'input[type="email"]'] },
  password: { description: 'the password field', label: /^Password/i, css: ['input[type="password"]'] },
  signInSubmit: { description: 'the "Sign in" button', role: { role: 'button', name: /^(Sign in|Log in|Next)$/ }, css: ['form button[type="submit"]'] },
  signInError: { description: 'the sign-in error', role: { role: 'alert' }, text: TEXTS.signInFailed },
} satisfies Record<string, Sel>;

/** One way of finding a selector's element, named for error messages and the canary table. */
export interface Strategy {
  via: string;
  locator: Locator;
}

/** The strategies of a selector, in priority order (hidden elements filtered out). */
export function strategies(root: Root, sel: Sel): Strategy[] {
  const out: Strategy[] = [];
  if (sel.role) out.push({ via: `role ${sel.role.role}${sel.role.name ? ` "${String(sel.role.name)}"` : ''}`, locator: root.getByRole(sel.role.role, { name: sel.role.name, exact: sel.role.exact }) });
  if (sel.label) out.push({ via: `label ${String(sel.label)}`, locator: root.getByLabel(sel.label) });
  if (sel.placeholder) out.push({ via: `placeholder ${String(sel.placeholder)}`, locator: root.getByPlaceholder(sel.placeholder) });
  if (sel.text) out.push({ via: `text ${String(sel.text)}`, locator: root.getByText(sel.text) });
  for (const css of sel.css ?? []) out.push({ via: `css ${css}`, locator: root.locator(css) });
  return out.map((s) => ({ via: s.via, locator: s.locator.filter({ visible: true }) }));
}

/** Every visible match of any strategy (for detection: "is any of these on screen?"). */
export function anyOf(root: Root, sel: Sel): Locator {
  const [first, ...rest] = strategies(root, sel).map((s) => s.locator);
  if (!first) throw new Error(`selector ${sel.description} has no strategy`);
  return rest.reduce((acc, l) => acc.or(l), first);
}

/** The first strategy, in priority order, that has a visible match, and its first element. */
export async function locate(root: Root, sel: Sel): Promise<{ locator: Locator; via: string } | undefined> {
  // Counted all at once: one round trip's latency, not one per fallback.
  const all = strategies(root, sel);
  const counts = await Promise.all(all.map((s) => s.locator.count().catch(() => 0)));
  const i = counts.findIndex((c) => c > 0);
  return i < 0 ? undefined : { locator: all[i]!.locator.first(), via: all[i]!.via };
}

export async function pick(root: Root, sel: Sel): Promise<Locator | undefined> {
  return (await locate(root, sel))?.locator;
}

/**
 * Waits until any strategy of `sel` shows a match — every fallback raced in one locator, so
 * none costs its timeout while another is present — then returns the highest-priority one.
 * Fails after `timeoutMs` naming what it could not find.
 */
export async function find(root: Root, sel: Sel, timeoutMs: number): Promise<{ locator: Locator; via: string; ms: number }> {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const seen = await anyOf(root, sel).first().waitFor({ state: 'visible', timeout: Math.max(1, left) }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof Error && err.name === 'TimeoutError') return false;
        throw err;
      },
    );
    if (!seen) throw failed(`could not find ${sel.description} (tried ${strategies(root, sel).map((s) => s.via).join('; ')})`, true);
    // Seen by the race; pick the preferred strategy (the element may vanish in between: race again).
    const hit = await locate(root, sel);
    if (hit) return { ...hit, ms: Date.now() - t0 };
  }
}

/** Same as pick, but for inputs (file inputs are never visible). */
export async function pickAttached(root: Root, sel: Sel): Promise<Locator | undefined> {
  const raw: Locator[] = [];
  if (sel.label) raw.push(root.getByLabel(sel.label));
  for (const css of sel.css ?? []) raw.push(root.locator(css));
  for (const l of raw) if ((await l.count()) > 0) return l.first();
  return undefined;
}

/** Milliseconds in a rate-limit message ("Try again in 15 minutes"), if it says. */
export function parseCooldownMs(text: string): number | undefined {
  const m = TEXTS.cooldown.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const factor = unit.startsWith('h') ? 3600_000 : unit.startsWith('m') ? 60_000 : 1000;
  return Math.round(value * factor);
}
