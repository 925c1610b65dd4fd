import { RtcpHeader, RtcpPacketConverter, RtcpPayloadSpecificFeedback } from 'werift';
import { describe, expect, it } from 'vitest';
import { FIR_FORMAT, firBody } from '../../src/rtp/rtcpFeedback.ts';

describe('firBody()', () => {
  it('lays out sender SSRC, a zero media SSRC, then one FCI entry (target SSRC, sequence number, reserved)', () => {
    const body = firBody(0x11223344, 0xaabbccdd, 7);
    expect(body.toString('hex')).toBe('11223344' + '00000000' + 'aabbccdd' + '07000000');
  });

  it('wraps the sequence number at 8 bits and takes SSRCs above 2^31', () => {
    const body = firBody(0xffffffff, 0x80000000, 257);
    expect(body.readUInt32BE(0)).toBe(0xffffffff);
    expect(body.readUInt32BE(8)).toBe(0x80000000);
    expect(body[12]).toBe(1);
  });

  it('is read by werift as a FIR for the target SSRC, and survives its serialize/parse round trip', () => {
    const fir = RtcpPayloadSpecificFeedback.deSerialize(firBody(1234, 5678, 3), new RtcpHeader({ count: FIR_FORMAT }));
    const [parsed] = RtcpPacketConverter.deSerialize(fir.serialize());
    expect(parsed).toBeInstanceOf(RtcpPayloadSpecificFeedback);
    const feedback = (parsed as RtcpPayloadSpecificFeedback).feedback;
    expect(feedback).toMatchObject({ senderSsrc: 1234, mediaSsrc: 0, fir: [{ ssrc: 5678, sequenceNumber: 3 }] });
  });
});
