import fs from 'node:fs';
import { MAX_EDIT_INPUT_SECONDS } from './limits';
import { mp4Seconds } from './mp4Duration';

/** What is wrong with a video to edit (xAI edits at most 8.7 s), or undefined: checked when the job starts, before any request. */
export function editSourceProblem(file: string, field: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    return `${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const seconds = mp4Seconds(bytes);
  if (seconds === undefined) return `${field}: ${file} is not an mp4 whose length can be read`;
  if (seconds > MAX_EDIT_INPUT_SECONDS) return `${field}: the video is ${seconds} s; xAI edits at most ${MAX_EDIT_INPUT_SECONDS} s`;
  return undefined;
}
