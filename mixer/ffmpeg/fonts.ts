import { existsSync } from 'node:fs';

/** Fonts tried for tile labels, in order; MCU_LABEL_FONT overrides. Debian: fonts-dejavu-core. */
const CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/truetype/freefont/FreeSans.ttf',
];

/** A font file for name labels, or undefined (labels are then left out). */
export function findLabelFont(): string | undefined {
  const override = process.env.MCU_LABEL_FONT;
  if (override) return existsSync(override) ? override : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}
