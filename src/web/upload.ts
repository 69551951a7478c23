import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, ExitCode } from '../cli/context';

// An image uploaded through the add form: its type decided by its first bytes (what the
// browser says is not evidence), stored under IMAGES_DIR/uploads — a folder grokflow owns
// inside the only folder imagePath may name — with a name grokflow chose. Written by hand
// rather than with a type-sniffing package: four fixed signatures, and the packages that
// do this are ESM-only while the project is CommonJS.

const SIGNATURES: Array<{ ext: string; test(b: Buffer): boolean }> = [
  { ext: 'png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { ext: 'jpg', test: (b) => b.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) },
  { ext: 'gif', test: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')) },
  { ext: 'webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];

/** The image's extension by its content, or undefined when it is none of PNG, JPEG, GIF, WebP. */
export function imageExtension(bytes: Buffer): string | undefined {
  return SIGNATURES.find((s) => s.test(bytes))?.ext;
}

export const UPLOADS = 'uploads';

/**
 * The upload's bytes checked and stored; returns the stored file's path. Throws a CliError
 * (a 400 with the form) naming what is wrong.
 */
export async function storeUpload(bytes: unknown, imagesDir: string, maxBytes: number): Promise<string | undefined> {
  if (bytes === undefined || (Buffer.isBuffer(bytes) && bytes.length === 0)) return undefined; // no file chosen
  if (!Buffer.isBuffer(bytes)) throw new CliError('image: must be a file', ExitCode.Usage);
  if (bytes.length > maxBytes) throw new CliError(`image: larger than ${maxBytes / 1024 / 1024} MB (WEB_UPLOAD_MAX_MB)`, ExitCode.Usage);
  const ext = imageExtension(bytes);
  if (!ext) throw new CliError('image: not a PNG, JPEG, WebP or GIF image', ExitCode.Usage);
  const dir = path.join(imagesDir, UPLOADS);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${randomUUID()}.${ext}`);
  // wx: a new file or nothing; never through a link someone left at that name.
  await fs.promises.writeFile(file, bytes, { flag: 'wx', mode: 0o600 });
  return file;
}
