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
    const clicked: ChosenOptions = {};
    for (const kind of Object.keys(KINDS) as Kind[]) {
      if (wanted[kind] === undefined && !KINDS[kind].rank) continue;
      clicked[kind] = await this.chooseOne(kind, wanted[kind]);
    }
    await this.close();
    // Read back: the menu button states the choice ("10s · 720p"); where it says nothing
    // about one, the click is what we know.
    const label = (await this.button.innerText({ timeout: this.actionMs }).catch(() => '')).trim();
    const shown: ChosenOptions = { ...clicked };
    for (const kind of ['duration', 'resolution'] as const) {
      const m = KINDS[kind].inLabel!.exec(label);
      if (!m || !clicked[kind]) continue;
      shown[kind] = KINDS[kind].key(m[0]);
      if (shown[kind] !== clicked[kind]) throw failed(`chose ${kind} ${clicked[kind]} but Video Options shows ${shown[kind]}`, true);
    }
    return shown;
  }

  /** Opens the menu and lists what it offers (the canary), then closes it. */
  async offered(): Promise<Record<Kind, string[]>> {
    await this.open();
    const out = {} as Record<Kind, string[]>;
    for (const kind of Object.keys(KINDS) as Kind[]) {
      const texts = await this.items(kind).allInnerTexts();
      out[kind] = [...new Set(texts.map((t) => KINDS[kind].key(t)).filter((k): k is string => k !== undefined))];
    }
    await this.close();
    return out;
  }

  /** The visible items of one kind. */
  private items(kind: Kind): Locator {
    return this.page.getByText(KINDS[kind].item).filter({ visible: true });
  }

  private anyItem(): Locator {
    const [first, ...rest] = (Object.keys(KINDS) as Kind[]).map((k) => this.items(k));
    return rest.reduce((a, b) => a.or(b), first!);
  }

  private async open(): Promise<void> {
    if ((await this.anyItem().count()) > 0) return;
    await this.button.click({ timeout: this.actionMs });
    await this.anyItem().first().waitFor({ state: 'visible', timeout: this.actionMs }).catch((err: unknown) => {
      throw err instanceof Error && err.name === 'TimeoutError' ? failed('the Video Options menu opened without any choice', true) : err;
    });
  }

  private async close(): Promise<void> {
    if ((await this.anyItem().count()) > 0) await this.page.keyboard.press('Escape');
  }

  private async chooseOne(kind: Kind, wanted?: string): Promise<string | undefined> {
    await this.open();
    const k = KINDS[kind];
    const items = this.items(kind);
    const offered = [...new Set((await items.allInnerTexts()).map((t) => t.trim()))];
    const keyed = offered.map((text) => ({ text, key: k.key(text) })).filter((o): o is { text: string; key: string } => o.key !== undefined);
    const list = () => (keyed.length ? keyed.map((o) => o.key).join(', ') : 'none');
    let target: { text: string; key: string } | undefined;
    if (wanted !== undefined) {
      target = keyed.find((o) => o.key === (k.key(wanted) ?? wanted.toLowerCase()));
      if (!target) throw failed(`${kind} ${wanted} is not offered (offered: ${list()})`, false);
    } else if (keyed.length > 0) {
      target = keyed.reduce((a, b) => (k.rank!(b.key) > k.rank!(a.key) ? b : a));
    }
    if (!target) return undefined;
    const exact = new RegExp(`^\\s*${target.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    await items.filter({ hasText: exact }).first().click({ timeout: this.actionMs });
    return target.key;
  }
}
