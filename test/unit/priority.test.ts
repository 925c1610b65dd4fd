import { spawn } from 'node:child_process';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { boostedNice, niceCommand } from '../../base/process/priority.ts';

describe('media path priority', () => {
  it('boosts by the requested levels, never past nice -20', () => {
    expect(boostedNice(0, 10)).toBe(-10);
    expect(boostedNice(5, 10)).toBe(-5);
    expect(boostedNice(-15, 10)).toBe(-20);
    expect(boostedNice(0, 0)).toBe(0);
  });

  it('starts background work through nice only when it must run lower', () => {
    expect(niceCommand('ffmpeg', ['-i', 'x'], 10)).toEqual(['/usr/bin/nice', ['-n', '10', 'ffmpeg', '-i', 'x']]);
    expect(niceCommand('ffmpeg', ['-i', 'x'], 0)).toEqual(['ffmpeg', ['-i', 'x']]);
    expect(niceCommand('ffmpeg', ['-i', 'x'], -3)).toEqual(['ffmpeg', ['-i', 'x']]);
  });

  it('a process started through nice runs at the lower priority, with its own PID', async () => {
    const [file, args] = niceCommand(process.execPath, ['-e', 'setTimeout(() => {}, 2000)'], 7);
    const child = spawn(file, args, { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(getPriority(child.pid!)).toBe(Math.min(19, getPriority() + 7));
    } finally {
      child.kill();
    }
  });
});
