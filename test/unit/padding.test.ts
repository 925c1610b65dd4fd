import { RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import { MAX_PADDING, paddingPacket, paddingSizes } from '../../src/rtp/padding.ts';

describe('padding packets', () => {
  it('are RTP with P set, no payload, and the padding count in the last byte, as werift reads them', () => {
    const packet = paddingPacket({ payloadType: 96, ssrc: 0xdeadbeef, seq: 65535, timestamp: 2 ** 32 - 1, size: 200 });
    expect(packet.length).toBe(12 + 200);
    const parsed = RtpPacket.deSerialize(packet);
    expect(parsed.header).toMatchObject({ version: 2, padding: true, payloadType: 96, ssrc: 0xdeadbeef, sequenceNumber: 65535, timestamp: 2 ** 32 - 1, marker: false });
    expect(parsed.header.paddingSize).toBe(200);
    expect(parsed.payload.length).toBe(0);
  });

  it('carry 1 to 255 bytes of padding, whatever is asked', () => {
    expect(paddingPacket({ payloadType: 96, ssrc: 1, seq: 0, timestamp: 0, size: 0 }).length).toBe(13);
    expect(paddingPacket({ payloadType: 96, ssrc: 1, seq: 0, timestamp: 0, size: 10_000 }).at(-1)).toBe(MAX_PADDING);
  });

  it('add up, headers included, to the rate asked for', () => {
    const sizes = paddingSizes(400_000, 100); // 5000 bytes
    const total = sizes.reduce((sum, size) => sum + size + 12, 0);
    expect(total).toBeGreaterThan(4950);
    expect(total).toBeLessThanOrEqual(5000);
    expect(sizes.every((size) => size >= 1 && size <= MAX_PADDING)).toBe(true);
    expect(paddingSizes(0, 100)).toEqual([]);
    expect(paddingSizes(1e12, 1000).length).toBe(1000);
  });
});
