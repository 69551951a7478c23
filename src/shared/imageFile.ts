import fs from 'node:fs';
import path from 'node:path';

/** Whether `p` lies under `root` (both absolute; `root` itself does not count, `/` holds all). */
function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
}

/**
 * Where `p` really is: its longest existing prefix with every symlink resolved, plus the rest.
 * A missing file behind a symlinked folder is judged by where the folder points, so the
 * answer for a path outside is the same whether the file exists or not.
 */
function realLocation(p: string): string {
  const rest: string[] = [];
  let at = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(at), ...rest);
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.resolve(p);
      rest.unshift(path.basename(at));
      at = parent;
    }
  }
}

/** The rule's message for a path outside IMAGES_DIR; says nothing of what is there. */
export function outsideImagesDir(imagesDir: string): string {
  return `must be a file inside IMAGES_DIR (${imagesDir})`;
}

/** The lexical half of the rule, for places that read no disk (the claim): `imagePath` resolved under `imagesDir`. */
export function imagePathOutside(imagePath: string, imagesDir: string): boolean {
  return !isInside(path.resolve(imagesDir), path.resolve(imagePath));
}

/**
 * What is wrong with a job's `imagePath`, or undefined when it names a file inside
 * `imagesDir` (IMAGES_DIR; symlinks resolved, so a link out of it is refused). One rule for
 * the CLI (before the row is written), the job's start (before any browser opens) and the
 * backends (right before the file is read). A path outside gets the same message whether
 * or not a file is there: the answer must not let anyone probe the server's disk.
 */
export function imageFileProblem(imagePath: string, imagesDir: string): string | undefined {
  const root = realLocation(imagesDir);
  const real = realLocation(imagePath);
  if (imagePathOutside(imagePath, imagesDir) || !isInside(root, real)) return outsideImagesDir(imagesDir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(real);
  } catch {
    return `no file at ${imagePath}`;
  }
  return stat.isFile() ? undefined : `not a file: ${imagePath}`;
}
