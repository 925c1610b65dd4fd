import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import { RecordingError } from '../../src/recording/errors.ts';
import { defaultRecordingName, planRecordingTarget, prepareRecordingTarget } from '../../src/recording/recordingPath.ts';

const ROOT = '/srv/recordings';

describe('planRecordingTarget()', () => {
  test.each([
    ['talk', '/srv/recordings/talk.webm', 'talk.webm', 'webm'],
    ['talk.', '/srv/recordings/talk.webm', 'talk.webm', 'webm'],
    ['talk.mkv', '/srv/recordings/talk.mkv', 'talk.mkv', 'matroska'],
    ['Talk.MP4', '/srv/recordings/Talk.MP4', 'Talk.MP4', 'mp4'],
    ['2026/11/talk.webm', '/srv/recordings/2026/11/talk.webm', '2026/11/talk.webm', 'webm'],
    ['a/../talk.webm', '/srv/recordings/talk.webm', 'talk.webm', 'webm'],
    ['/srv/recordings/abs.webm', '/srv/recordings/abs.webm', 'abs.webm', 'webm'],
  ])('accepts %j as %s', (name, path, file, container) => {
    expect(planRecordingTarget(ROOT, name)).toEqual({ path, file, container });
  });

  test.each([
    ['..', 'outside'],
    ['../talk.webm', 'outside'],
    ['a/../../talk.webm', 'outside'],
    ['/etc/talk.webm', 'outside'],
    ['/srv/recordings-other/talk.webm', 'outside'],
    ['talk.mp3', 'must end in'],
    ['talk.webm.txt', 'must end in'],
    ['.', 'must end in'],
    ['', '1-255'],
    ['x'.repeat(256), '1-255'],
    ['a\u0000b.webm', 'control characters'],
    ['a\nb.webm', 'control characters'],
  ])('refuses %j (%s) with bad_path', (name, words) => {
    let caught: unknown;
    try {
      planRecordingTarget(ROOT, name);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RecordingError);
    expect((caught as RecordingError).code).toBe('bad_path');
    expect((caught as RecordingError).message).toContain(words);
  });
});

describe('prepareRecordingTarget() on a real folder', () => {
  let base: string;
  let root: string;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'mcu-recpath-'));
    root = join(base, 'recordings');
  });

  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const prepare = (name: string) => prepareRecordingTarget(root, planRecordingTarget(root, name));

  it('creates the recordings folder and the subfolders a name asks for', async () => {
    const target = await prepare('2026/talk.mkv');
    expect(target.file).toBe('2026/talk.mkv');
    expect(target.path).toBe(join(root, '2026', 'talk.mkv'));
    expect(existsSync(join(root, '2026'))).toBe(true);
    expect(existsSync(target.path)).toBe(false);
  });

  it('refuses a symbolic link that leads outside, however deep', async () => {
    mkdirSync(root, { recursive: true });
    mkdirSync(join(base, 'elsewhere'));
    symlinkSync(join(base, 'elsewhere'), join(root, 'out'));
    await expect(prepare('out/talk.webm')).rejects.toMatchObject({ code: 'bad_path' });
    await expect(prepare('out/new/deeper/talk.webm')).rejects.toMatchObject({ code: 'bad_path' });
    expect(existsSync(join(base, 'elsewhere', 'new'))).toBe(false);
  });

  it('follows a symbolic link that stays inside', async () => {
    mkdirSync(join(root, 'real'), { recursive: true });
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    const target = await prepare('alias/talk.webm');
    expect(target.path).toBe(join(root, 'real', 'talk.webm'));
  });

  it('never reuses an existing file, link or unfinished recording', async () => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'old.webm'), 'x');
    symlinkSync('/etc/passwd', join(root, 'link.webm'));
    writeFileSync(join(root, 'crashed.webm.recording'), '{}');
    for (const name of ['old.webm', 'old', 'link.webm', 'crashed.webm']) {
      await expect(prepare(name)).rejects.toMatchObject({ code: 'file_exists' });
    }
  });
});

test('defaultRecordingName() is the room and the UTC time, safe as a file name', () => {
  expect(defaultRecordingName('standup', new Date('2026-11-24T09:47:25.364Z'))).toBe('standup-2026-11-24T09-47-25Z.webm');
});
