// The length of an .mp4, read from its movie header box (`mvhd`: timescale and duration,
// ISO/IEC 14496-12 §8.2.2). Hand-written rather than a library: one box of a file is all an
// edit's 8.7 s check needs, and an mp4 parser would be a large dependency for it.

/** Seconds, or undefined when the bytes hold no readable movie header. */
export function mp4Seconds(bytes: Buffer): number | undefined {
  for (let i = bytes.indexOf('mvhd'); i >= 4; i = bytes.indexOf('mvhd', i + 4)) {
    const version = bytes[i + 4];
    const at = i + 8; // after the box type, version (1) and flags (3)
    if (version === 0 && at + 16 <= bytes.length) {
      const timescale = bytes.readUInt32BE(at + 8);
      const duration = bytes.readUInt32BE(at + 12);
      if (timescale > 0) return duration / timescale;
    } else if (version === 1 && at + 28 <= bytes.length) {
      const timescale = bytes.readUInt32BE(at + 16);
      const duration = Number(bytes.readBigUInt64BE(at + 20));
      if (timescale > 0) return duration / timescale;
    }
  }
  return undefined;
}
