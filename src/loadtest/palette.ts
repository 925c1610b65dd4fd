/**
 * One colour per publisher (a bench bot, a load-test publisher), far apart in RGB so that a
 * tile's colour still says whose it is after scaling and VP8 at the composite's bitrate: every
 * colour whose channels are 0, 128 or 255 (neighbours 127 apart), but black, which is the empty
 * canvas. 26 of them: a full room (the grid holds 25).
 */
export const PALETTE: readonly (readonly [number, number, number])[] = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0],
  [0, 255, 255], [255, 0, 255], [255, 255, 255], [128, 128, 128],
  [128, 0, 0], [0, 128, 0], [0, 0, 128], [128, 128, 0],
  [0, 128, 128], [128, 0, 128], [255, 128, 0], [0, 128, 255],
  [255, 0, 128], [128, 255, 0], [0, 255, 128], [128, 0, 255],
  [255, 128, 128], [128, 255, 128], [128, 128, 255], [255, 255, 128],
  [255, 128, 255], [128, 255, 255],
];

/** The colour as FFmpeg writes it: 0xRRGGBB. */
export function ffmpegColor(index: number): string {
  const rgb = PALETTE[index % PALETTE.length]!;
  return `0x${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** Index of the nearest palette colour, or -1 when nothing is near (farther than `maxDistance`). */
export function nearestPaletteIndex(rgb: readonly [number, number, number], maxDistance = 90): number {
  let best = -1;
  let bestDistance = Infinity;
  PALETTE.forEach((ref, i) => {
    const d = Math.hypot(rgb[0] - ref[0], rgb[1] - ref[1], rgb[2] - ref[2]);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  });
  return bestDistance <= maxDistance ? best : -1;
}

/** Tones: 1300 to 2550 Hz, 50 Hz apart; 2600 would be twice the first. */
const TONE_COUNT = 26;
/** Coprime with TONE_COUNT: publisher i takes step i × 7, so neighbours are 350 Hz or more apart. */
const TONE_STRIDE = 7;

/**
 * The tone of publisher i: whole cycles in a 20 ms Opus frame, so that what a receiver decodes
 * with packets lost stays in phase (30 % lost: 850 Hz kept its power, 275 Hz fell to 1/10,000);
 * none of the 26 a multiple of another. Publishers next to each other (the first ones speak)
 * get tones far apart: with 50 Hz between three speakers, the middle one's frequency caught the
 * Opus coding noise of both others, 1/300 to 1/60 of their power, and a listener's own tone
 * could not be told from it.
 */
export function publisherTone(i: number): number {
  return 1300 + 50 * ((i * TONE_STRIDE) % TONE_COUNT);
}
