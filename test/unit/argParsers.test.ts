import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it, test } from 'vitest';
import {
  compositeSize,
  duration,
  integer,
  listenAddress,
  lowerRungs,
  port,
  positiveSeconds,
  publishedSize,
  readableFile,
  roomName,
  seconds,
  serverUrl,
  signalingUrl,
  writablePath,
} from '../../src/cli/argParsers.ts';

/** Every refusal is commander's InvalidArgumentError, and every message says what fits: "must ...". */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const message = (error as Error).message;
    expect(message).toMatch(/^must /);
    return message;
  }
  throw new Error('accepted');
}

describe('integer()', () => {
  const fps = integer(1, 60);
  test.each([['1', 1], ['60', 60], [' 30 ', 30]])('%j → %d', (value, n) => expect(fps(value)).toBe(n));
  test.each(['0', '61', '', ' ', '1.5', '-1', '1e1', '0x10', 'many', '+5'])('refuses %j', (value) => {
    expect(refusal(() => fps(value))).toBe('must be a whole number from 1 to 60');
  });
});

test('port: 0 to 65535', () => {
  expect(port('0')).toBe(0);
  expect(port('65535')).toBe(65535);
  expect(refusal(() => port('65536'))).toBe('must be a whole number from 0 to 65535');
});

describe('seconds() and positiveSeconds()', () => {
  it('takes fractions within the bounds', () => {
    expect(seconds(0.1, 600)('0.1')).toBe(0.1);
    expect(seconds(0, 86_400)('0')).toBe(0);
    expect(refusal(() => seconds(0.1, 600)('0'))).toBe('must be a number of seconds from 0.1 to 600');
    expect(refusal(() => seconds(0, 10)(''))).toBe('must be a number of seconds from 0 to 10');
  });
  it('positiveSeconds refuses zero, negatives, empty and words', () => {
    expect(positiveSeconds('2.5')).toBe(2.5);
    for (const value of ['0', '-1', '', 'soon', 'Infinity']) expect(refusal(() => positiveSeconds(value))).toBe('must be a positive number of seconds');
  });
});

test('duration(): a number with a unit, in seconds', () => {
  expect(duration('90s')).toBe(90);
  expect(duration('30m')).toBe(1800);
  expect(duration('6h')).toBe(21_600);
  expect(refusal(() => duration('soon'))).toBe('must be a duration such as 90s, 30m, 6h or 1d');
});

describe('sizes', () => {
  it('the composite: even, 64x64 to 3840x2160', () => {
    expect(compositeSize('1280x720')).toEqual({ width: 1280, height: 720 });
    for (const value of ['32x32', '1281x720', '3842x2160', '1280*720', '1280x', 'x720']) {
      expect(refusal(() => compositeSize(value))).toBe('must be WIDTHxHEIGHT, even numbers from 64x64 to 3840x2160 (e.g. 640x360)');
    }
  });
  it('a published picture: even, 16x16 to 3840x2160', () => {
    expect(publishedSize('16x16')).toEqual({ width: 16, height: 16 });
    expect(refusal(() => publishedSize('15x16'))).toMatch(/from 16x16 to 3840x2160/);
  });
});

test('lowerRungs(): rungs below the composite, best first, or none (their fit is checked with --size and --bitrate)', () => {
  expect(lowerRungs('640x360@500,320x180@150')).toEqual([
    { width: 640, height: 360, kbps: 500 },
    { width: 320, height: 180, kbps: 150 },
  ]);
  expect(lowerRungs(' 480x270@300 ')).toEqual([{ width: 480, height: 270, kbps: 300 }]);
  expect(lowerRungs('none')).toEqual([]);
  for (const value of ['', '640x360', '640x360@', '640x360@500,', '640*360@500', 'off', '640x360@500;320x180@150', '1280x720@1.5']) {
    expect(refusal(() => lowerRungs(value))).toMatch(/^must be WIDTHxHEIGHT@KBPS rungs below the composite, best first.*or none$/);
  }
});

test('roomName(): the signaling rule', () => {
  expect(roomName('a_b-C9')).toBe('a_b-C9');
  for (const value of ['', 'my room', '../x', 'r'.repeat(65)]) expect(refusal(() => roomName(value))).toBe('must be 1-64 of A-Z a-z 0-9 _ -');
});

test('URLs: ws(s) for signaling, http(s) for the API (its origin)', () => {
  expect(signalingUrl('wss://example.com/socket')).toBe('wss://example.com/socket');
  expect(refusal(() => signalingUrl('http://127.0.0.1:8080/socket'))).toBe('must be a ws or wss URL, such as ws://127.0.0.1:8080/socket');
  expect(refusal(() => signalingUrl('nope'))).toBe('must be a URL such as ws://127.0.0.1:8080/socket');
  expect(serverUrl('http://127.0.0.1:8080/some/path')).toBe('http://127.0.0.1:8080');
  expect(refusal(() => serverUrl('ws://127.0.0.1:8080'))).toBe('must be a http or https URL, such as http://127.0.0.1:8080');
});

test('listenAddress(): [host:]port', () => {
  expect(listenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
  expect(listenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
  expect(refusal(() => listenAddress('host:70000'))).toBe('must be [host:]port, e.g. 127.0.0.1:9464');
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcu-argparsers-'));
  const file = join(dir, 'clip.webm');
  writeFileSync(file, 'x');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('readableFile: an existing file, made absolute', () => {
    expect(readableFile(file)).toBe(file);
    expect(refusal(() => readableFile(dir))).toMatch(/^must be a readable file/);
    expect(refusal(() => readableFile(join(dir, 'missing')))).toMatch(/^must be a readable file/);
  });
  it('writablePath: in an existing folder', () => {
    expect(writablePath(join(dir, 'new.log'))).toBe(join(dir, 'new.log'));
    expect(refusal(() => writablePath(join(dir, 'no', 'new.log')))).toMatch(/^must be in a writable directory/);
  });
});
