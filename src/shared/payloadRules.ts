import type { Config } from './config';
import { projectPath } from './config';
import { simulatorUrl } from './grokTarget';
import { imagePathOutside, outsideImagesDir } from './imageFile';

// What a payload may point at, beyond its shape (payloads.ts): rules that depend on the
// deployment, checked by parsePayload wherever a payload is read (the CLI and the console
// before the INSERT, the claim for rows written by SQL, the job's start before a browser).
// - imageUrl is a post of the Grok grokflow drives (GROK_BASE_URL, else the simulator): a
//   logged-in Chromium never opens another site's page.
// - imagePath lies inside IMAGES_DIR: a payload cannot make a slave upload any file it can
//   read (a saved session included). Here lexically; imageFileProblem also resolves symlinks.

export interface PayloadRules {
  /** The origin every imageUrl must have, e.g. https://grok.com. */
  grokOrigin: string;
  /** IMAGES_DIR, absolute. */
  imagesDir: string;
}

export type PayloadRulesConfig = Pick<Config, 'GROK_BASE_URL' | 'SIMULATOR_URL' | 'SIMULATOR_PORT' | 'IMAGES_DIR'>;

export function payloadRules(config: PayloadRulesConfig): PayloadRules {
  return {
    grokOrigin: new URL(config.GROK_BASE_URL ?? simulatorUrl(config)).origin,
    imagesDir: projectPath(config.IMAGES_DIR),
  };
}

/** Each broken rule as `payload.<field>: <why>`; none: []. Reads only the fields it checks. */
export function payloadRuleProblems(payload: unknown, rules: PayloadRules): string[] {
  const p = (payload ?? {}) as { imageUrl?: unknown; imagePath?: unknown };
  const problems: string[] = [];
  if (typeof p.imageUrl === 'string') {
    let origin: string | undefined;
    try {
      origin = new URL(p.imageUrl).origin;
    } catch {
      origin = undefined; // the schema names a URL that does not parse
    }
    if (origin !== undefined && origin !== rules.grokOrigin) {
      problems.push(`payload.imageUrl: must be a post on ${rules.grokOrigin} (the Grok grokflow drives: GROK_BASE_URL), not on ${origin}`);
    }
  }
  if (typeof p.imagePath === 'string' && imagePathOutside(p.imagePath, rules.imagesDir)) {
    problems.push(`payload.imagePath: ${outsideImagesDir(rules.imagesDir)}`);
  }
  return problems;
}
