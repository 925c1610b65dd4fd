/**
 * The bench chart, drawn by hand as SVG (no dependency) and rasterised to PNG by FFmpeg's
 * librsvg decoder: one panel per figure against N (the bench draws server CPU against bare
 * FFmpeg, the server's CPU by role, and downlink per participant, MCU against SFU), side by side.
 */
import { writeFile } from 'node:fs/promises';
import { runCommand } from '../lib/processes.ts';

export interface ChartSeries {
  label: string;
  color: string;
  dashed?: boolean;
  /** `incomplete`: measured with fewer participants than planned, drawn as a hollow dot. */
  points: { x: number; y: number | null; incomplete?: boolean }[];
}

export interface ChartPanel {
  title: string;
  yLabel: string;
  series: ChartSeries[];
}

const HEIGHT = 460;
const PANEL = { width: 400, height: 300, top: 70 };
/** Each panel's share of the width: its plot, its axis labels on the left, a margin. */
const PANEL_STRIDE = 500;
const FIRST_LEFT = 80;

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten, with room above the data. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value * 1.1));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value * 1.1) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return String(Math.round(value * 100) / 100);
}

function panelSvg(panel: ChartPanel, left: number, xs: number[]): string {
  const { width, height, top } = PANEL;
  const xMax = Math.max(...xs, 1);
  const yMax = niceMax(Math.max(0, ...panel.series.flatMap((s) => s.points.map((p) => p.y ?? 0))));
  const px = (x: number): number => left + (x / xMax) * width;
  const py = (y: number): number => top + height - (y / yMax) * height;
  const parts: string[] = [];
  parts.push(`<text x="${left + width / 2}" y="${top - 30}" text-anchor="middle" font-size="16" font-weight="bold">${escape(panel.title)}</text>`);
  // Grid and y ticks.
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(`<line x1="${left}" y1="${py(y)}" x2="${left + width}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${py(y) + 4}" text-anchor="end" font-size="12">${formatTick(y)}</text>`);
  }
  for (const x of xs) {
    parts.push(`<line x1="${px(x)}" y1="${top + height}" x2="${px(x)}" y2="${top + height + 5}" stroke="#333"/>`);
    parts.push(`<text x="${px(x)}" y="${top + height + 20}" text-anchor="middle" font-size="12">${x}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${top + height}" x2="${left + width}" y2="${top + height}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#333"/>`);
  parts.push(`<text x="${left + width / 2}" y="${top + height + 42}" text-anchor="middle" font-size="13">participants (N)</text>`);
  parts.push(
    `<text x="${left - 55}" y="${top + height / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 ${left - 55} ${top + height / 2})">${escape(panel.yLabel)}</text>`,
  );
  // Series: a line through the known points, a dot on each.
  panel.series.forEach((s, index) => {
    const known = s.points.filter((p): p is { x: number; y: number; incomplete?: boolean } => p.y !== null);
    if (known.length > 1) {
      const path = known.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7,5"' : ''}/>`);
    }
    for (const p of known) {
      const fill = p.incomplete ? 'white' : s.color;
      parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4.5" fill="${fill}" stroke="${s.color}" stroke-width="2"/>`);
    }
    const ly = top + 8 + index * 20;
    parts.push(`<line x1="${left + 12}" y1="${ly}" x2="${left + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7,5"' : ''}/>`);
    parts.push(`<text x="${left + 46}" y="${ly + 4}" font-size="12">${escape(s.label)}</text>`);
  });
  return parts.join('\n');
}

export function chartSvg(title: string, subtitle: string, xs: number[], panels: ChartPanel[]): string {
  const WIDTH = PANEL_STRIDE * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="18" font-weight="bold">${escape(title)}</text>`,
    `<text x="${WIDTH / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="11" fill="#555">${escape(subtitle)}</text>`,
    ...panels.map((panel, i) => panelSvg(panel, FIRST_LEFT + i * PANEL_STRIDE, xs)),
    '</svg>',
  ].join('\n');
}

/** Writes the SVG and a PNG of it; returns the PNG path, or undefined if FFmpeg could not rasterise it. */
export async function writeChart(svgPath: string, pngPath: string, svg: string): Promise<string | undefined> {
  await writeFile(svgPath, svg);
  try {
    await runCommand(process.env.MCU_FFMPEG ?? 'ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'svg_pipe', '-i', `file:${svgPath}`, '-frames:v', '1', '-y', pngPath], 30_000);
    return pngPath;
  } catch {
    return undefined;
  }
}
