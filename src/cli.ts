import { spawnSync } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FfmpegProcess } from '../mixer/FfmpegProcess.ts';
import { createLogger } from '../mixer/logger.ts';
import { botCommand } from './bot/botCommand.ts';
import { DEFAULT_CONFIG, parseIceServers, type ServerConfig } from './config.ts';
import { roomNameSchema } from './signaling/messages.ts';
import { startServer, type RunningServer } from './server.ts';

const log = createLogger('cli');

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function size(value: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(value);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 64 || height < 64 || width > 3840 || height > 2160 || width % 2 || height % 2) {
    throw new InvalidArgumentError('must be WIDTHxHEIGHT, even numbers from 64x64 to 3840x2160');
  }
  return { width, height };
}

function roomName(value: string): string {
  const result = roomNameSchema.safeParse(value);
  if (!result.success) throw new InvalidArgumentError('must be 1-64 of A-Z a-z 0-9 _ -');
  return value;
}

interface ServerFlags {
  host: string;
  port: number;
  iceServers?: string;
  announcedAddress: string[];
  size: { width: number; height: number };
  fps: number;
  bitrate: number;
  maxParticipants: number;
}

function addServerOptions(command: Command): Command {
  return command
    .addOption(new Option('--host <address>', 'address to listen on; ICE offers only loopback when this is loopback').default(DEFAULT_CONFIG.host))
    .addOption(new Option('--port <port>', 'HTTP, WebSocket and API port').default(DEFAULT_CONFIG.port).argParser(integer(0, 65535)))
    .addOption(
      new Option('--ice-servers <servers>', 'ICE servers: comma-separated URLs or a JSON array of RTCIceServer (default: none)').env(
        'MCU_ICE_SERVERS',
      ),
    )
    .addOption(
      new Option('--announced-address <address...>', 'address(es) ICE offers instead of the listen address (e.g. a public IP)').default([]),
    )
    .addOption(new Option('--size <WxH>', 'composite size').default({ width: 1280, height: 720 }, '1280x720').argParser(size))
    .addOption(new Option('--fps <n>', 'composite frame rate').default(30).argParser(integer(1, 60)))
    .addOption(new Option('--bitrate <kbps>', 'composite bitrate in kbit/s').default(1500).argParser(integer(100, 20000)))
    .addOption(new Option('--max-participants <n>', 'participants per room').default(16).argParser(integer(1, 25)));
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
  return {
    ...DEFAULT_CONFIG,
    host: flags.host,
    port: flags.port,
    iceServers,
    announcedAddresses: flags.announcedAddress,
    room: {
      ...DEFAULT_CONFIG.room,
      maxParticipants: flags.maxParticipants,
      session: { ...DEFAULT_CONFIG.room.session, canvas: flags.size, fps: flags.fps, videoBitrateKbps: flags.bitrate },
    },
  };
}

function checkFfmpeg(): void {
  const result = spawnSync(process.env.MCU_FFMPEG ?? 'ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error('ffmpeg not found or not working: install it with `sudo apt-get install ffmpeg`');
  }
}

/** Starts the server, stops it cleanly on Ctrl-C or SIGTERM. */
async function run(flags: ServerFlags, defaultRoom?: string): Promise<void> {
  checkFfmpeg();
  const config = configFrom(flags);
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.port} on ${config.host} is in use: choose another with --port`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`cannot listen on ${config.host}: no such local address`);
    throw error;
  }
  if (defaultRoom) {
    await server.rooms.create(defaultRoom);
    process.stdout.write(`Mixer running. Open ${server.url}?room=${defaultRoom} to join room "${defaultRoom}".\n`);
  } else {
    process.stdout.write(`Mixer running at ${server.url}\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping (waiting for FFmpeg to finish)...\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function buildProgram(): Command {
  const program = new Command('mcu')
    .description('MCU mixing server: every participant sends once and receives one composite and one mix')
    .showHelpAfterError('(run with --help for usage)');
  addServerOptions(program.command('serve').description('run the server; rooms are created as clients join')).action(
    (flags: ServerFlags) => run(flags),
  );
  addServerOptions(
    program
      .command('start')
      .description('run the server with a ready room and print the URL to open')
      .argument('[room]', 'room name', roomName, 'default'),
  ).action((room: string, flags: ServerFlags) => run(flags, room));
  program.addCommand(botCommand());
  return program;
}

process.on('unhandledRejection', (error) => {
  log.error({ err: error }, 'unhandled rejection');
});

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  await FfmpegProcess.stopAll();
  process.exit(1);
}
