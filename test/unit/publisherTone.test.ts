import { describe, expect, it } from 'vitest';
import { OPUS_FRAME_MS } from '../../src/loadtest/clip.ts';
import { PALETTE, publisherTone } from '../../src/loadtest/palette.ts';

describe('publisherTone', () => {
  const tones = PALETTE.map((_, i) => publisherTone(i));

  it('turns whole cycles in an Opus frame, so that a lost packet leaves the tone in phase', () => {
    for (const tone of tones) expect(Number.isInteger((tone * OPUS_FRAME_MS) / 1000), `${tone} Hz`).toBe(true);
  });

  it('gives neighbouring publishers tones at least 350 Hz apart (the first ones are the speakers)', () => {
    for (let i = 1; i < tones.length; i++) expect(Math.abs(tones[i]! - tones[i - 1]!), `publishers ${i - 1} and ${i}`).toBeGreaterThanOrEqual(350);
  });

  it('gives every colour its own tone, none a multiple of another', () => {
    expect(new Set(tones).size).toBe(PALETTE.length);
    for (const a of tones) for (const b of tones) if (a < b) expect(b % a, `${a} Hz and ${b} Hz`).not.toBe(0);
  });
});
