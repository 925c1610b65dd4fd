import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Rung } from '../../mixer/logic/ladder.ts';
import { parseDuration } from '../auth/tokens.ts';
import { parseLowerRungs } from '../rooms/roomRungs.ts';
import { roomNameSchema } from '../signaling/messages.ts';

/**
 * The command-line value parsers of every `mcu` command (serve, start, bot, loadtest, token,
 * ...): one rule per kind of value, checked where it is parsed. commander names the option and
 * the value ("option '--fps <n>' argument 'many' is invalid."), so each message only says what
 * fits, in the same words everywhere: "must be ...".
 */

export interface Size {
  width: number;
  height: number;
}

/** A whole number in decimal digits (no sign, exponent or hex) from `min` to `max`. */
export function integer(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A UDP or TCP port; 0 lets the system choose. */
export const port: (value: string) => number = integer(0, 65535);

/** A number of seconds, fractions allowed, from `min` to `max`. */
export function seconds(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a number of seconds from ${min} to ${max}`);
    }
    return n;
  };
}

export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/** A duration with its unit (90s, 30m, 6h, 1d), in seconds. */
export function duration(value: string): number {
  const n = parseDuration(value);
  if (n === undefined) throw new InvalidArgumentError('must be a duration such as 90s, 30m, 6h or 1d');
  return n;
}

/** A picture size WxH of even numbers (yuv420p) from `min` to `max`. */
export function videoSize(min: Size, max: Size): (value: string) => Size {
  return (value: string): Size => {
    const match = /^(\d{1,5})x(\d{1,5})$/.exec(value);
    const width = Number(match?.[1]);
    const height = Number(match?.[2]);
    if (!match || width < min.width || height < min.height || width > max.width || height > max.height || width % 2 || height % 2) {
      throw new InvalidArgumentError(
        `must be WIDTHxHEIGHT, even numbers from ${min.width}x${min.height} to ${max.width}x${max.height} (e.g. 640x360)`,
      );
    }
    return { width, height };
  };
}

/** The composite the server makes. */
export const compositeSize = videoSize({ width: 64, height: 64 }, { width: 3840, height: 2160 });

/** A picture a client publishes (`mcu bot`, `mcu loadtest`): what the bot's source, and the load generator's clips, can make. */
export const publishedSize = videoSize({ width: 16, height: 16 }, { width: 3840, height: 2160 });

/**
 * The composite's rungs below it (`640x360@500,320x180@150`, best first) or `none`. Their fit
 * below the composite depends on --size and --bitrate, so checkLowerRungs checks it once all
 * options are read.
 */
export function lowerRungs(value: string): Rung[] {
  try {
    return parseLowerRungs(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A room name, by the rule of the signaling protocol. */
export function roomName(value: string): string {
  if (!roomNameSchema.safeParse(value).success) throw new InvalidArgumentError('must be 1-64 of A-Z a-z 0-9 _ -');
  return value;
}

/** A URL with one of `protocols` (e.g. `['ws:', 'wss:']`); `example` shows one in the message. */
export function url(protocols: readonly string[], example: string): (value: string) => string {
  const names = protocols.map((p) => p.slice(0, -1)).join(' or ');
  return (value: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new InvalidArgumentError(`must be a URL such as ${example}`);
    }
    if (!protocols.includes(parsed.protocol)) throw new InvalidArgumentError(`must be a ${names} URL, such as ${example}`);
    return value;
  };
}

/** The signaling WebSocket of a running server (`mcu bot`, `mcu loadtest`). */
export const signalingUrl = url(['ws:', 'wss:'], 'ws://127.0.0.1:8080/socket');

/** The HTTP side of a running server (`mcu rooms`, `mcu record`, ...): its origin. */
export function serverUrl(value: string): string {
  return new URL(url(['http:', 'https:'], 'http://127.0.0.1:8080')(value)).origin;
}

/** `[host:]port`, the host 127.0.0.1 when left out (an IPv6 host in brackets). */
export function listenAddress(value: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(value);
  const n = Number(match?.[2]);
  if (!match || n > 65535) throw new InvalidArgumentError('must be [host:]port, e.g. 127.0.0.1:9464');
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port: n };
}

/** A file that exists and can be read; its absolute path. */
export function readableFile(value: string): string {
  try {
    if (!statSync(value).isFile()) throw new Error('not a file');
    accessSync(value, constants.R_OK);
  } catch {
    throw new InvalidArgumentError(`must be a readable file (cannot read ${value})`);
  }
  return resolve(value);
}

/** A path whose directory exists and is writable (the file itself is created or appended to); absolute. */
export function writablePath(value: string): string {
  const path = resolve(value);
  try {
    if (!statSync(dirname(path)).isDirectory()) throw new Error('not a directory');
    accessSync(dirname(path), constants.W_OK);
  } catch {
    throw new InvalidArgumentError(`must be in a writable directory (${dirname(path)} does not exist or is not writable)`);
  }
  return path;
}
