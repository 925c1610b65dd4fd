/**
 * A speech-like voice for the loss bench, made by FFmpeg: a buzz whose pitch glides (the
 * harmonics of a glottal pulse), its vowel colour changing syllable by syllable, noise bursts
 * for fricatives, about four syllables a second, and pauses: one talker speaks 3.2 s of every
 * 6 s, so two talkers offset by 3 s take turns. A steady tone would not do: a browser conceals a
 * stationary signal almost perfectly, and Opus codes it in its music mode, which has no in-band FEC.
 * Every period divides the 12 s file, so it loops without a click.
 */
import { runCommand } from '../lib/processes.ts';

const SECONDS = 12;
const HARMONICS = 8;

/** aevalsrc's expression for a talker of pitch `f0` Hz whose turn starts `offsetSeconds` into the 6 s cycle. */
export function speechExpression(f0: number, offsetSeconds: number): string {
  const t = `(t+${6 - offsetSeconds})`;
  // Pitch f0·(1 + 0.15 sin 2π·0.5t + 0.05 sin 2π·2.25t), integrated into a phase.
  const phase = `2*PI*${f0}*${t}-${(f0 * 0.15) / 0.5}*cos(2*PI*0.5*${t})-${(f0 * 0.05) / 2.25}*cos(2*PI*2.25*${t})`;
  const harmonics = Array.from({ length: HARMONICS }, (_, i) => `(1+0.9*sin(2*PI*1.875*${t}+${(i + 1) * 1.3}))*sin(${i + 1}*ld(0))/${i + 1}`).join('+');
  const turn = `lt(mod(${t},6),3.2)`;
  const syllable = `pow(max(0,sin(2*PI*3.75*${t})),0.6)`;
  const fricative = `gt(sin(2*PI*1.875*${t}),0.8)*(random(1)*2-1)`;
  return `st(0,${phase});${turn}*(0.15*${syllable}*(${harmonics})+0.1*${fricative})`;
}

/** FFmpeg arguments writing that voice to `path` as 48 kHz mono WAV. */
export function speechFileArgs(path: string, f0: number, offsetSeconds: number): string[] {
  return ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='${speechExpression(f0, offsetSeconds)}':s=48000:d=${SECONDS}`, '-ac', '1', '-c:a', 'pcm_s16le', `file:${path}`];
}

export async function makeSpeechFile(path: string, f0: number, offsetSeconds: number): Promise<void> {
  await runCommand(process.env.MCU_FFMPEG ?? 'ffmpeg', speechFileArgs(path, f0, offsetSeconds), 30_000);
}
