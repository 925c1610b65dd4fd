import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { integer, positiveSeconds, publishedSize, readableFile, roomName, signalingUrl, writablePath } from '../cli/argParsers.ts';
import { checkRecordingCodec, h264LevelProblem, isFfmpegColor, recordingFormat } from './botArgs.ts';
import { timecodeGeometry } from '../../mixer/logic/timecode.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { setBackgroundNiceness } from '../../base/process/priority.ts';
import type { KeyframeRequestKind } from '../peers/keyframeRequests.ts';
import type { BotOptions, BotSource, BotVideoCodec } from './BotTypes.ts';

/** After SIGINT/SIGTERM or `--duration`, give up on a clean stop after this long. */
const STOP_DEADLINE_MS = 10_000;

interface RawOptions {
  url: string;
  room: string;
  name?: string;
  token?: string;
  color: string;
  tone: number;
  timecode: boolean;
  file?: string;
  loop: boolean;
  size: { width: number; height: number };
  fps: number;
  bitrate: number;
  codec: BotVideoCodec;
  viewer: boolean;
  video: boolean;
  record?: string;
  frameLog?: string;
  duration?: number;
  timeout: number;
  uplinkLoss?: number;
  ffmpegNice?: number;
}

function parseName(value: string): string {
  if (value.length < 1 || value.length > 64) throw new InvalidArgumentError('must be 1-64 characters');
  return value;
}

function parseColor(value: string): string {
  if (!isFfmpegColor(value)) {
    throw new InvalidArgumentError('must be an FFmpeg colour name (see `ffmpeg -colors`) or 0xRRGGBB');
  }
  return value;
}

function parseRecordPath(value: string): string {
  try {
    recordingFormat(value);
  } catch {
    throw new InvalidArgumentError('must end in .mkv or .webm');
  }
  return writablePath(value);
}

function toBotOptions(raw: RawOptions): BotOptions {
  const source: BotSource = raw.file
    ? { kind: 'file', path: raw.file, loop: raw.loop }
    : { kind: 'synthetic', color: raw.color, toneHz: raw.tone, timecode: raw.timecode };
  return {
    url: raw.url,
    room: raw.room,
    name: raw.name ?? `bot-${randomBytes(3).toString('hex')}`,
    ...(raw.token !== undefined ? { token: raw.token } : {}),
    source,
    width: raw.size.width,
    height: raw.size.height,
    fps: raw.fps,
    videoBitrateKbps: raw.bitrate,
    codec: raw.codec,
    viewer: raw.viewer,
    video: raw.video,
    ...(raw.record !== undefined ? { recordPath: raw.record } : {}),
    ...(raw.frameLog !== undefined ? { frameLogPath: raw.frameLog } : {}),
    connectTimeoutMs: Math.round(raw.timeout * 1000),
    statsIntervalMs: 1000,
    ...(raw.uplinkLoss ? { uplinkLoss: raw.uplinkLoss / 100 } : {}),
  };
}

/** What single-option parsers cannot see: combinations of options that cannot work together. */
function combinationProblem(raw: RawOptions): string | undefined {
  if (raw.loop && !raw.file) return "option '--loop' needs '--file'";
  if (raw.timecode) {
    try {
      timecodeGeometry(raw.size);
    } catch (error) {
      return `option '--timecode' with '--size': ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (raw.codec !== 'h264') return undefined;
  if (raw.record !== undefined) {
    try {
      checkRecordingCodec(raw.record, 'H264');
    } catch {
      return "option '--record' with '--codec h264' needs a .mkv path: WebM cannot hold the H.264 composite";
    }
  }
  // A viewer and an audio-only bot publish no video: nothing to encode at level 3.1.
  if (raw.viewer || !raw.video) return undefined;
  const problem = h264LevelProblem({ ...raw.size, fps: raw.fps, bitrateKbps: raw.bitrate });
  return problem ? `options '--size', '--fps' and '--bitrate' with '--codec h264': ${problem}` : undefined;
}

const KEYFRAME_COMMANDS = new Map<string, KeyframeRequestKind>([
  ['pli', 'PLI'],
  ['fir', 'FIR'],
]);

/** One JSON object per line on stdout: the bot's whole machine-readable output. */
function emitLine(event: string, fields: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** Last resort on any exit path: no FFmpeg child may outlive the bot. */
function killChildrenOnExit(): void {
  process.once('exit', () => {
    for (const child of FfmpegProcess.liveProcesses()) {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

async function runBot(options: BotOptions, durationSeconds: number | undefined): Promise<number> {
  killChildrenOnExit();
  // A reader that went away (EPIPE) must not crash the bot before it has stopped its children.
  process.stdout.on('error', () => {});
  // Loaded here, not at the top: `mcu --help` and the client commands need no WebRTC stack.
  const [{ createBot }, { SignalingError }] = await Promise.all([import('./Bot.ts'), import('../signaling/SignalingClient.ts')]);
  const bot = createBot(options);
  let exitCode = 0;
  let stopping: Promise<unknown> | undefined;

  bot.on('joined', (info) => emitLine('joined', info));
  bot.on('connected', (at) => emitLine('connected', { at }));
  bot.on('stats', (stats) => emitLine('stats', stats));
  bot.on('sourceended', () => emitLine('sourceended'));
  bot.on('participants', (participants) => emitLine('participants', { participants }));
  bot.on('speaker', (id) => emitLine('speaker', { id }));
  bot.on('error', (problem) => emitLine('error', problem));
  bot.on('videosending', (sending) => emitLine('videosending', { sending, at: Date.now() }));
  bot.on('videosize', (size) => emitLine('videosize', { ...size, at: Date.now() }));
  bot.on('died', (error) => {
    exitCode = 1;
    emitLine('error', { code: error instanceof SignalingError ? error.code : 'fatal', message: error.message, fatal: true });
    process.stderr.write(`mcu bot: ${error.message}\n`);
  });

  const stop = (): Promise<unknown> => {
    stopping ??= (async () => {
      const deadline = setTimeout(() => {
        process.stderr.write('mcu bot: could not stop cleanly in time\n');
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      await bot.stop();
      clearTimeout(deadline);
    })();
    return stopping;
  };
  const left = new Promise<void>((resolveLeft) => {
    bot.once('left', (stats) => {
      emitLine('left', stats);
      resolveLeft();
    });
  });
  const onSignal = (): void => void stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Fault injection for tests: each SIGUSR2 stops or restarts the video (a stalled camera).
  let videoSending = true;
  process.on('SIGUSR2', () => bot.setVideoSending((videoSending = !videoSending)));
  // ... and each SIGUSR1 switches its video between --size and half of it (a browser adapting).
  process.on('SIGUSR1', () => void bot.toggleVideoSize());
  // ... and a line "pli" or "fir" on standard input asks the server for a composite keyframe.
  // Not as a terminal interface: that would put a terminal in raw mode and take Ctrl-C's SIGINT.
  createInterface({ input: process.stdin, terminal: false }).on('line', (line) => {
    const kind = KEYFRAME_COMMANDS.get(line.trim().toLowerCase());
    if (!kind) {
      emitLine('error', { code: 'bad_command', message: `unknown command on standard input: ${JSON.stringify(line)} (pli or fir)` });
      return;
    }
    const at = bot.requestKeyframe(kind);
    emitLine('keyframerequest', at === undefined ? { kind, sent: false } : { kind, sent: true, at });
  });

  try {
    await bot.start();
  } catch (error) {
    const code = error instanceof SignalingError ? error.code : 'start_failed';
    const message = error instanceof Error ? error.message : String(error);
    if (stopping) {
      // A signal while joining is a normal stop, not a failure.
      await stopping;
      await left;
      return exitCode;
    }
    emitLine('error', { code, message, fatal: true });
    process.stderr.write(`mcu bot: ${message}\n`);
    return 1;
  }
  let durationTimer: NodeJS.Timeout | undefined;
  if (durationSeconds !== undefined) durationTimer = setTimeout(onSignal, durationSeconds * 1000);
  await left;
  if (durationTimer) clearTimeout(durationTimer);
  return exitCode;
}

export function botCommand(): Command {
  const command = new Command('bot');
  return command
    .description(
      'Join a room as a headless participant: publish a synthetic colour and tone (or a media file), ' +
        'receive the composite and the mix, print JSON lines on stdout (joined, connected, stats every ' +
        'second, participants, speaker, videosending, error, left). Stops on SIGINT/SIGTERM or after --duration. ' +
        'SIGUSR2 stops the video or starts it again at its next keyframe (a stalled camera); SIGUSR1 switches ' +
        'the video between --size and half of it (a browser adapting its resolution; a videosize line says when). ' +
        'A line "pli" or "fir" on standard input sends the server a PLI or FIR about the composite (a keyframerequest line says when).',
    )
    .option('--url <ws url>', 'signaling WebSocket URL', signalingUrl, 'ws://127.0.0.1:8080/socket')
    .option('--room <room>', 'room to join (1-64 of A-Z a-z 0-9 _ -)', roomName, 'default')
    .option('--name <name>', 'display name (default: bot-<random>)', parseName)
    .option('--token <token>', 'join token, if the server wants one')
    .addOption(
      new Option('--color <colour>', 'colour of the synthetic picture: FFmpeg colour name or 0xRRGGBB')
        .argParser(parseColor)
        .default('red'),
    )
    .addOption(
      new Option('--tone <hz>', 'frequency of the synthetic tone; 0 sends silence')
        .argParser(integer(0, 20000))
        .default(440),
    )
    .addOption(
      new Option('--file <media file>', 'publish this media file (transcoded to VP8 or H.264, and Opus) instead of the synthetic source')
        .argParser(readableFile)
        .conflicts(['color', 'tone']),
    )
    .option('--loop', 'with --file: start the file again at its end', false)
    .addOption(
      new Option(
        '--timecode',
        'draw the wall-clock time (ms) as a row of black and white blocks across the top of the synthetic picture, ' +
          'for measuring glass-to-glass latency (read back with mixer/logic/timecode.ts)',
      )
        .default(false)
        .conflicts(['file', 'viewer']),
    )
    .addOption(new Option('--size <WxH>', 'published video size').argParser(publishedSize).default({ width: 640, height: 360 }, '640x360'))
    .option('--fps <n>', 'published frame rate (the keyframe interval is one second)', integer(1, 60), 30)
    .option('--bitrate <kbps>', 'published video bitrate', integer(10, 20000), 800)
    .addOption(
      new Option(
        '--codec <codec>',
        'video codec offered and published: vp8 (offers VP8 and H.264, sends VP8) or h264 (offers H.264 only, ' +
          'sends libx264 Baseline level 3.1 up to 1280x720 at 30 fps, receives an H.264 composite)',
      )
        .choices(['vp8', 'h264'])
        .default('vp8'),
    )
    .addOption(new Option('--viewer', 'watch and listen only: both transceivers recvonly').default(false).conflicts(['file']))
    .option('--no-video', 'publish audio only (the video transceiver is recvonly)')
    .option('--record <path>', 'stream-copy the received composite and mix into a .mkv or .webm file (.mkv with --codec h264)', parseRecordPath)
    .option('--frame-log <path>', 'append "<wall ms since epoch> <rtp timestamp> [k]" (k: a keyframe) per received video frame', writablePath)
    .option('--duration <seconds>', 'leave after this long (default: run until SIGINT/SIGTERM)', positiveSeconds)
    .option('--timeout <seconds>', 'give up if not connected after this long', positiveSeconds, 15)
    .option('--uplink-loss <percent>', 'fault injection: drop this share of the RTP packets sent, retransmissions included', integer(0, 100))
    .option(
      '--ffmpeg-nice <levels>',
      "run the bot's own FFmpeg (source, recorder) this many nice levels below the bot, so that a bot that measures receives ahead of its own encoding",
      integer(0, 19),
    )
    .action(async (raw: RawOptions) => {
      const problem = combinationProblem(raw);
      if (problem) command.error(`error: ${problem}`);
      if (raw.ffmpegNice) setBackgroundNiceness(raw.ffmpegNice);
      const code = await runBot(toBotOptions(raw), raw.duration);
      process.exit(code);
    });
}
