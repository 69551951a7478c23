import type { Locator, Page } from 'playwright';
import { modeOf, TEXTS } from './selectors';
import { failed } from './types';

// The "Video Options" menu: its choices are found by their visible text in the opened menu,
// whatever their role (menuitemradio, menuitem, option, radio, a plain button), and what the
// page shows as chosen is read back from the menu button.

/** What a generation runs with, as the page shows it: '10s', '720p', '16:9', 'fun'. */
export interface ChosenOptions {
  duration?: string;
  resolution?: string;
  aspectRatio?: string;
  mode?: string;
}
type Kind = keyof ChosenOptions;

interface OptionKind {
  /** How an item of this kind reads (any language). */
  item: RegExp;
  /** The canonical value of an item's text. */
  key(text: string): string | undefined;
  /** Order for "the longest / highest offered" (kinds chosen even when not asked for). */
  rank?(key: string): number;
  /** How the menu button states the current choice, when it does. */
  inLabel?: RegExp;
}

const num = (re: RegExp, unit: string) => (t: string) => {
  const m = re.exec(t);
  return m ? `${Number(m[1])}${unit}` : undefined;
};
const KINDS: Record<Kind, OptionKind> = {
  duration: { item: TEXTS.durationOption, key: num(TEXTS.durationOption, 's'), rank: parseFloat, inLabel: /(\d+)\s*s\b/ },
  resolution: { item: TEXTS.resolutionOption, key: num(TEXTS.resolutionOption, 'p'), rank: parseFloat, inLabel: /(\d+)\s*p\b/ },
  aspectRatio: {
    item: TEXTS.aspectOption,
    key: (t) => {
      const m = TEXTS.aspectOption.exec(t);
      return m ? `${m[1]}:${m[2]}` : undefined;
    },
  },
  mode: { item: TEXTS.modeOption, key: modeOf },
};

export interface OptionRequest {
  /** 'max': the longest offered. */
  duration: string;
  /** Default: the highest offered. */
  resolution?: string;
  aspectRatio?: string;
  mode?: string;
}

/** One choice of the open menu as the page shows it. */
interface MenuItem {
  kind: Kind;
  text: string;
  key: string;
  /** The page marks it chosen (aria-checked, aria-selected, aria-pressed, data-state). */
  checked: boolean;
  /** Its centre in the viewport when the menu was read (absent: not fully in view). */
  at?: { x: number; y: number };
}

/**
 * How the menu is driven, and why each wait is there:
 * - the menu is opened once and read in one round trip (every choice of every kind, with
 *   what the page marks chosen); a choice already chosen is not clicked again;
 * - a click on a choice may close the menu (menus of radio items usually do; the simulator's
 *   does): before the next choice, one round trip asks whether it is still open, and the
 *   button reopens it;
 * - clicks skip Playwright's actionability checks (`force`): its wait for the element to stand
 *   still would wait out the menu's opening animation at every choice, and its hit-target
 *   check costs two more round trips a click. What they guarded is checked otherwise: the
 *   choices' locators match shown elements only (a click waits for one), and a menu that did
 *   not open (a click lost under an overlay) fails the wait for its choices, naming it;
 * - the read back (the button's label) and "is it still open" are asked at once.
 */
export class VideoOptionsMenu {
  constructor(
    private readonly page: Page,
    private readonly button: Locator,
    private readonly actionMs: number,
  ) {}

  /** Chooses every requested option (and the longest duration / highest resolution by default), then reads back. */
  async choose(req: OptionRequest): Promise<ChosenOptions> {
    const wanted: Record<Kind, string | undefined> = {
      duration: req.duration === 'max' ? undefined : req.duration,
      resolution: req.resolution,
      aspectRatio: req.aspectRatio,
      mode: req.mode,
    };
    const [menu, label] = await Promise.all([this.openAndRead(), this.label()]);
    const clicked: ChosenOptions = {};
    const toClick: MenuItem[] = [];
    for (const kind of Object.keys(KINDS) as Kind[]) {
      if (wanted[kind] === undefined && !KINDS[kind].rank) continue;
      const target = this.target(kind, wanted[kind], menu);
      if (!target) continue;
      clicked[kind] = target.key;
      // Already chosen, as the item or the button's label says: nothing to click.
      const inLabel = KINDS[kind].inLabel?.exec(label);
      if (target.checked || (inLabel && KINDS[kind].key(inLabel[0]) === target.key)) continue;
      toClick.push(target);
    }
    for (const [i, item] of toClick.entries()) {
      let target = item;
      if (i > 0) {
        // The menu as it is now (empty: it closed with the last choice, and is opened again).
        const now = await this.openAndRead(await this.read());
        target = now.find((m) => m.kind === item.kind && m.key === item.key) ?? item;
      }
      await this.clickItem(target);
    }
    // Read back: the menu button states the choice ("10s · 720p"); where it says nothing
    // about one, the click is what we know.
    const [open, after] = await Promise.all([this.isOpen(), this.label()]);
    if (open) await this.close();
    const shown: ChosenOptions = { ...clicked };
    for (const kind of ['duration', 'resolution'] as const) {
      const m = KINDS[kind].inLabel!.exec(after);
      if (!m || !clicked[kind]) continue;
      shown[kind] = KINDS[kind].key(m[0]);
      if (shown[kind] !== clicked[kind]) throw failed(`chose ${kind} ${clicked[kind]} but Video Options shows ${shown[kind]}`, true);
    }
    return shown;
  }

  /** Opens the menu and lists what it offers (the canary), then closes it. */
  async offered(): Promise<Record<Kind, string[]>> {
    const menu = await this.openAndRead();
    const out = {} as Record<Kind, string[]>;
    for (const kind of Object.keys(KINDS) as Kind[]) out[kind] = [...new Set(menu.filter((m) => m.kind === kind).map((m) => m.key))];
    if (await this.isOpen()) await this.close();
    return out;
  }

  /**
   * Closes the open menu: Escape, as menus take it; a menu that stays open (one without a key
   * handler) is closed by its button, so that it covers nothing the next click needs.
   */
  private async close(): Promise<void> {
    await this.page.keyboard.press('Escape');
    if (await this.isOpen()) await this.button.click({ timeout: this.actionMs, force: true });
  }

  private async label(): Promise<string> {
    return (await this.button.innerText({ timeout: this.actionMs }).catch(() => '')).trim();
  }

  /** The visible items of one kind. */
  private items(kind: Kind): Locator {
    return this.page.getByText(KINDS[kind].item).filter({ visible: true });
  }

  private anyItem(): Locator {
    const [first, ...rest] = (Object.keys(KINDS) as Kind[]).map((k) => this.items(k));
    return rest.reduce((a, b) => a.or(b), first!);
  }

  /**
   * Clicks a choice: at the centre the menu's read gave (one call, the press and release a
   * user makes), else through its locator. What a locator click adds here — finding the
   * element again, scrolling it into view, asking its box — is what the read just did, in
   * the same round trip; a choice not fully in view is clicked through its locator.
   */
  private async clickItem(item: MenuItem): Promise<void> {
    if (item.at) await this.page.mouse.click(item.at.x, item.at.y);
    else await this.itemLocator(item).click({ timeout: this.actionMs, force: true });
  }

  private itemLocator(item: MenuItem): Locator {
    const exact = new RegExp(`^\\s*${item.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    return this.items(item.kind).filter({ hasText: exact }).first();
  }

  private async isOpen(): Promise<boolean> {
    return (await this.anyItem().count().catch(() => 0)) > 0;
  }

  /**
   * Opens the menu (unless it is open) and reads every choice it shows. A menu is usually
   * there once the click returned (its page rendered it in the click's own event): it is read
   * at once, and waited for only when it is not there yet.
   */
  private async openAndRead(shown?: MenuItem[]): Promise<MenuItem[]> {
    const open = shown ? shown.length > 0 : await this.isOpen();
    if (shown && open) return shown;
    if (!open) await this.button.click({ timeout: this.actionMs, force: true });
    let menu = await this.read();
    if (menu.length === 0 && !open) {
      await this.anyItem().first().waitFor({ state: 'visible', timeout: this.actionMs }).catch((err: unknown) => {
        throw err instanceof Error && err.name === 'TimeoutError' ? failed('the Video Options menu opened without any choice', true) : err;
      });
      menu = await this.read();
    }
    return menu;
  }

  /**
   * Every choice the open menu shows, with what it marks chosen: one round trip. Found in the
   * page by the kinds' patterns (the visible elements whose text is a choice, innermost), not
   * by a locator: a locator's evaluate runs in the page's own world, which would get a second
   * copy of Playwright's injected script compiled at every page load (~60 ms of renderer CPU;
   * the clicks and counts run in Playwright's utility world, which has one already).
   */
  private async read(): Promise<MenuItem[]> {
    const patterns = (Object.keys(KINDS) as Kind[]).map((k) => ({ source: KINDS[k].item.source, flags: KINDS[k].item.flags }));
    // A string, not a function: tsx (esbuild keepNames) wraps named inner functions in a
    // helper the page lacks.
    const raw = (await this.page.evaluate(`(() => {
      const res = ${JSON.stringify(patterns)}.map((p) => new RegExp(p.source, p.flags));
      const isChoice = (e) => {
        const t = (e.textContent || '').replace(/\\s+/g, ' ').trim();
        return t.length > 0 && t.length < 40 && res.some((r) => r.test(t));
      };
      const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
      return Array.from(document.body.querySelectorAll('*'))
        .filter((e) => isChoice(e) && !Array.from(e.children).some(isChoice) && shown(e))
        .map((e) => {
          const r = e.getBoundingClientRect();
          const inView = r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
          return {
            at: inView ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : null,
            text: (e.innerText || e.textContent || '').trim(),
            checked: ['aria-checked', 'aria-selected', 'aria-pressed'].some((a) => e.getAttribute(a) === 'true') || ['checked', 'on'].includes(e.getAttribute('data-state') || ''),
          };
        });
    })()`)) as Array<{ text: string; checked: boolean; at: { x: number; y: number } | null }>;
    const out: MenuItem[] = [];
    for (const r of raw) {
      for (const kind of Object.keys(KINDS) as Kind[]) {
        if (!KINDS[kind].item.test(r.text)) continue;
        const key = KINDS[kind].key(r.text);
        if (key !== undefined && !out.some((o) => o.kind === kind && o.key === key)) out.push({ kind, text: r.text, key, checked: r.checked, ...(r.at ? { at: r.at } : {}) });
        break;
      }
    }
    return out;
  }

  /** The item to choose of a kind: the one asked for (failing when not offered), or the highest ranked. */
  private target(kind: Kind, wanted: string | undefined, menu: MenuItem[]): MenuItem | undefined {
    const k = KINDS[kind];
    const keyed = menu.filter((m) => m.kind === kind);
    const list = () => (keyed.length ? keyed.map((o) => o.key).join(', ') : 'none');
    if (wanted !== undefined) {
      const target = keyed.find((o) => o.key === (k.key(wanted) ?? wanted.toLowerCase()));
      if (!target) throw failed(`${kind} ${wanted} is not offered (offered: ${list()})`, false);
      return target;
    }
    if (keyed.length === 0) return undefined;
    return keyed.reduce((a, b) => (k.rank!(b.key) > k.rank!(a.key) ? b : a));
  }
}
