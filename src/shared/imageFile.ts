import fs from 'node:fs';

/**
 * What is wrong with a job's `imagePath`, or undefined when the file is there. One rule for
 * the CLI (before the row is written), the job's start (before any browser opens) and the
 * driver (right before the upload, in case the file went away meanwhile).
 */
export function imageFileProblem(imagePath: string): string | undefined {
  return fs.existsSync(imagePath) ? undefined : `no file at ${imagePath}`;
}
