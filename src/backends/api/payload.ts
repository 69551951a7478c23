// What a job's payload may ask of the API backend. The browser's page-only options have no
// counterpart in xAI's API: a job asking for them is refused before anything is submitted,
// naming each field, rather than run without them.

export interface ApiPayloadView {
  imageUrl?: string;
  mode?: string;
  upscale?: boolean;
  deleteAfterDownload?: boolean;
}

export function apiPayloadProblems(p: ApiPayloadView): string[] {
  const problems: string[] = [];
  if (p.imageUrl) problems.push('payload.imageUrl: a Grok Imagine post is a page of grok.com the API cannot read; give imagePath (sent as a data: URI)');
  if (p.mode) problems.push(`payload.mode: "${p.mode}" is a Grok web app mode; xAI's API has none`);
  if (p.upscale) problems.push('payload.upscale: the API has no upscale; ask resolution "720p"');
  if (p.deleteAfterDownload) problems.push('payload.deleteAfterDownload: API generations are not posts on an account; nothing to delete');
  return problems;
}
