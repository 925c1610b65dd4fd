import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FfmpegProcess } from '../base/process/FfmpegProcess.ts';
import type { Rung } from '../mixer/logic/ladder.ts';
import type { LayoutKind } from '../mixer/logic/layout.ts';
import { createLogger } from '../base/log/logger.ts';
import { botCommand } from './bot/botCommand.ts';
import { compositeSize, integer, lowerRungs, port, positiveSeconds, roomName, seconds } from './cli/argParsers.ts';
import { loadtestCommand } from './loadtest/loadtestCommand.ts';
import { kickCommand, recordCommand, roomsCommand } from './cli/clientCommands.ts';
import { formatBytes, statusLine } from './cli/format.ts';
import { addSecurityOptions, securityConfig, type SecurityFlags } from './cli/securityOptions.ts';
import { keysCommand, tokenCommand } from './cli/tokenCommands.ts';
import { createToken } from './auth/tokens.ts';
import { DEFAULT_CONFIG, parseIceServers, type ServerConfig } from './config.ts';
import { defaultRecordingName, planRecordingTarget, prepareRecordingTarget, type RecordingTarget } from './recording/recordingPath.ts';
import type { Room } from './rooms/Room.ts';
import { checkLowerRungs, rungsThatFit } from './rooms/roomRungs.ts';
import type { RunningServer } from './server.ts';

const log = createLogger('cli');

interface ServerFlags extends SecurityFlags {
  host: string;
  port: number;
  iceServers?: string;
  announcedAddress: string[];
  size: { width: number; height: number };
  fps: number;
  bitrate: number;
  /** The rungs below the composite, unchecked (undefined: the default ones that fit). */
  ladder?: Rung[];
  mixFecLoss: number;
  placeholderAfter: number;
  maxParticipants: number;
  recordings: string;
  priorityBoost: number;
  spareSession: boolean;
  decodeSilence: boolean;
}

interface StartFlags extends ServerFlags {
  layout: LayoutKind;
  /** A file name, or true for the default name. */
  record?: string | true;
  statusInterval?: number;
}

function addServerOptions(command: Command): Command {
  return addSecurityOptions(command)
    .addOption(new Option('--host <address>', 'address to listen on; ICE offers only loopback when this is loopback').default(DEFAULT_CONFIG.host))
    .addOption(new Option('--port <port>', 'HTTP, WebSocket and API port').default(DEFAULT_CONFIG.port).argParser(port))
    .addOption(
      new Option('--ice-servers <servers>', 'ICE servers: comma-separated URLs or a JSON array of RTCIceServer (default: none)').env(
        'MCU_ICE_SERVERS',
      ),
    )
    .addOption(
      new Option('--announced-address <address...>', 'address(es) ICE offers instead of the listen address (e.g. a public IP)').default([]),
    )
    .addOption(new Option('--size <WxH>', 'composite size').default({ width: 1280, height: 720 }, '1280x720').argParser(compositeSize))
    .addOption(new Option('--fps <n>', 'composite frame rate').default(30).argParser(integer(1, 60)))
    .addOption(new Option('--bitrate <kbps>', 'composite bitrate in kbit/s').default(1500).argParser(integer(100, 20000)))
    .addOption(
      new Option(
        '--ladder <rungs>',
        'renditions of the composite below it for viewers on weak links, best first, WxH@kbps, each smaller and cheaper than the one above it; none: straight to audio only (default: 640x360@500,320x180@150, those that fit)',
      ).argParser(lowerRungs),
    )
    .addOption(
      new Option('--mix-fec-loss <percent>', "the packet loss the mixes' Opus in-band FEC is sized for; 0 turns FEC off")
        .default(DEFAULT_CONFIG.room.session.mixFecLossPercent)
        .argParser(integer(0, 100)),
    )
    .addOption(
      new Option('--placeholder-after <seconds>', "a publisher whose video stops keeps its last picture this long, then its tile shows its name on a dark tile")
        .default(DEFAULT_CONFIG.room.session.placeholderAfterMs / 1000)
        .argParser(seconds(0.1, 600)),
    )
    .addOption(new Option('--max-participants <n>', 'participants per room').default(16).argParser(integer(1, 25)))
    .addOption(
      new Option('--recordings <dir>', 'the only folder recordings are written to (created if missing)').default(DEFAULT_CONFIG.recordingsDir),
    )
    .addOption(
      new Option(
        '--priority-boost <levels>',
        'nice levels the media path (signaling/fan-out thread, session clocks, compositors) runs above decoders and encoders; needs root or CAP_SYS_NICE, 0 turns it off',
      )
        .default(DEFAULT_CONFIG.priorityBoost)
        .argParser(integer(0, 19)),
    )
    .addOption(
      new Option(
        '--no-spare-session',
        "do not keep a session process booted ahead of need (saves about 60 MiB; a room's first join then waits 1-2 s more for its composite)",
      ),
    )
    .addOption(
      new Option(
        '--decode-silence',
        'decode every publisher\'s audio, also what its client stamps as silence (RFC 6464); by default that is held back from the decoders',
      ).default(false),
    );
}

function configFrom(flags: ServerFlags): ServerConfig {
  let iceServers = DEFAULT_CONFIG.iceServers;
  if (flags.iceServers !== undefined) {
    try {
      iceServers = parseIceServers(flags.iceServers);
    } catch (error) {
      throw new InvalidArgumentError(`--ice-servers: ${(error as Error).message}`);
    }
  }
  const composite = { ...flags.size, kbps: flags.bitrate };
  let rungs: Rung[];
  try {
    rungs = flags.ladder ? checkLowerRungs(composite, flags.ladder) : rungsThatFit(composite, DEFAULT_CONFIG.room.session.rungs);
  } catch (error) {
    throw new InvalidArgumentError(`--ladder: ${(error as Error).message}`);
  }
  return {
    ...DEFAULT_CONFIG,
    ...securityConfig(flags, process.env),
    host: flags.host,
    port: flags.port,
    iceServers,
    announcedAddresses: flags.announcedAddress,
    recordingsDir: resolve(flags.recordings),
    priorityBoost: flags.priorityBoost,
    spareSession: flags.spareSession,
    decodeSilence: flags.decodeSilence,
    room: {
      ...DEFAULT_CONFIG.room,
      maxParticipants: flags.maxParticipants,
      session: {
        ...DEFAULT_CONFIG.room.session,
        canvas: flags.size,
        fps: flags.fps,
        videoBitrateKbps: flags.bitrate,
        rungs,
        mixFecLossPercent: flags.mixFecLoss,
        placeholderAfterMs: Math.round(flags.placeholderAfter * 1000),
      },
    },
  };
}

function checkFfmpeg(): void {
  const result = spawnSync(process.env.MCU_FFMPEG ?? 'ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error('ffmpeg not found or not working: install it with `sudo apt-get install ffmpeg`');
  }
}

/**
 * `mcu start`'s live status, from the room's own figures: one line rewritten in place on a
 * terminal, a line every few seconds otherwise (a log file must not fill with `\r`s).
 */
function showStatus(room: Room, intervalSeconds: number | undefined): () => void {
  const tty = process.stdout.isTTY === true;
  const timer = setInterval(
    () => {
      void room.stats().then((stats) => {
        const line = statusLine(stats);
        process.stdout.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      });
    },
    (intervalSeconds ?? (tty ? 1 : 5)) * 1000,
  );
  return () => {
    clearInterval(timer);
    if (tty) process.stdout.write('\n');
  };
}

/** The page link `mcu start` prints: with keys, it carries a join token for the room (valid 6 h). */
async function joinLink(server: RunningServer, config: ServerConfig, room: string): Promise<string> {
  const first = config.keys.entries().next();
  if (first.done) return `${server.url}?room=${room}`;
  const [key, secret] = first.value;
  const grants = { room, roomJoin: true, canPublish: true, canSubscribe: true };
  return `${server.url}?room=${room}&token=${await createToken({ key, secret, identity: `link-${room}`, grants, ttlSeconds: 6 * 3600 })}`;
}

/** Who can get in, and how: development mode, the certificate to check, the metrics address. */
function describeAccess(server: RunningServer, config: ServerConfig): void {
  const lines: string[] = [];
  if (server.development) lines.push('Development mode (no API keys): loopback only, no token asked for. `mcu keys` makes keys.');
  else lines.push(`Tokens required (${config.keys.size} API key${config.keys.size === 1 ? '' : 's'}): \`mcu token --room <room> --identity <who>\` makes one.`);
  if (server.tls?.selfSigned) {
    lines.push(`Self-signed certificate ${server.tls.certPath}; browsers warn once: accept it only if its SHA-256 fingerprint is`, `  ${server.tls.fingerprint}`);
  } else if (server.tls) lines.push(`TLS certificate ${server.tls.certPath} (SHA-256 ${server.tls.fingerprint})`);
  if (server.metricsUrl) lines.push(`Metrics at ${server.metricsUrl}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Starts the server (and for `mcu start`, its room and recording); stops it cleanly on Ctrl-C or SIGTERM. */
async function run(flags: ServerFlags, start?: { room: string; flags: StartFlags }): Promise<void> {
  checkFfmpeg();
  const config = configFrom(flags);
  // A bad recording name fails before anything listens.
  let target: RecordingTarget | undefined;
  if (start?.flags.record !== undefined) {
    const name = start.flags.record === true ? defaultRecordingName(start.room, new Date()) : start.flags.record;
    target = await prepareRecordingTarget(config.recordingsDir, planRecordingTarget(config.recordingsDir, name));
  }
  let server: RunningServer;
  try {
    // Loaded here, not at the top: the client commands and `--help` start in a fraction of the time.
    const { startServer } = await import('./server.ts');
    server = await startServer(config);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.port} on ${config.host} is in use (another server?): choose another with --port`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`cannot listen on ${config.host}: no such local address`);
    if (code === 'EACCES') throw new Error(`not allowed to listen on port ${config.port}: choose one above 1023 with --port`);
    throw error;
  }
  let stopStatus = (): void => {};
  let room: Room | undefined;
  if (start) {
    room = await server.rooms.create(start.room, {
      session: { ...config.room.session, layout: { kind: start.flags.layout } },
    });
    process.stdout.write(`Mixer running. Open ${await joinLink(server, config, start.room)} to join room "${start.room}".\n`);
    describeAccess(server, config);
    if (target) {
      try {
        const recording = await room.startRecording(target);
        process.stdout.write(`Recording into ${resolve(config.recordingsDir, recording.file)}\n`);
      } catch (error) {
        await server.close();
        throw error;
      }
    }
    stopStatus = showStatus(room, start.flags.statusInterval);
  } else {
    process.stdout.write(`Mixer running at ${server.url}\n`);
    describeAccess(server, config);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopStatus();
    process.stdout.write(`${signal}: stopping (waiting for FFmpeg to finish)...\n`);
    server.close().then(
      () => {
        const recording = room?.recording;
        if (recording && target) {
          process.stdout.write(
            `Recording ${recording.state}: ${resolve(config.recordingsDir, recording.file)}, ` +
              `${recording.durationSeconds.toFixed(1)} s, ${formatBytes(recording.bytes)}\n`,
          );
        }
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** Commander's own errors (bad option, missing argument) as one line, like every other error. */
function oneLineErrors(command: Command): Command {
  return command.configureOutput({
    outputError: (text, write) => {
      const message = text.replace(/^error: /, '').split('\n').filter(Boolean).join(' ');
      write(`mcu: ${message} (see --help)\n`);
    },
  });
}

export function buildProgram(): Command {
  const program = oneLineErrors(
    new Command('mcu').description('MCU mixing server: every participant sends once and receives one composite and one mix'),
  );
  addServerOptions(program.command('serve').description('run the server; rooms are created as clients join')).action(
    (flags: ServerFlags) => run(flags),
  );
  addServerOptions(
    program
      .command('start')
      .description('run the server with a ready room (and its recording), showing a live status line')
      .argument('[room]', 'room name', roomName, 'default'),
  )
    .addOption(new Option('--layout <layout>', 'layout of the composite').choices(['grid', 'speaker']).default('grid'))
    .option('--record [file]', 'record the room from the start into this file of the recordings folder (.webm, .mkv or .mp4; default <room>-<time>.webm)')
    .addOption(
      new Option('--status-interval <seconds>', 'seconds between status updates (default: 1 on a terminal, 5 otherwise)').argParser(
        positiveSeconds,
      ),
    )
    .action((room: string, flags: StartFlags) => run(flags, { room, flags }));
  for (const command of [roomsCommand(), recordCommand(), kickCommand(), tokenCommand(), keysCommand(), botCommand(), loadtestCommand()]) {
    program.addCommand(command);
  }
  // Subcommands added whole do not inherit the program's output settings: give them each.
  const all = (command: Command): Command[] => [command, ...command.commands.flatMap(all)];
  for (const command of all(program)) oneLineErrors(command);
  return program;
}

process.on('unhandledRejection', (error) => {
  log.error({ err: error }, 'unhandled rejection');
});

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`mcu: ${(error as Error).message.split('\n')[0]}\n`);
  await FfmpegProcess.stopAll();
  process.exit(1);
}
