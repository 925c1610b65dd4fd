import { beforeAll, describe, expect, test } from 'vitest';
import {
  checkImports,
  describeViolation,
  type ImportEdge,
  importsOf,
  readImportGraph,
  repositoryRoot,
  resolveSpecifier,
} from '../helpers/importGraph.ts';

// The rule of imports (README, "How it is built"): base/ imports neither src/ nor mixer/; mixer/
// imports base/ only; mixer/logic/ is pure (no FFmpeg adapter, no process, no Node I/O); src/ may
// import mixer/ and base/; scripts/ and test/ anything; web/ only web/.

/** An edge as `from` would write it. */
const edge = (from: string, specifier: string, line = 1): ImportEdge => ({
  from,
  line,
  specifier,
  to: resolveSpecifier(from, specifier),
});

const broken = (edges: ImportEdge[]): string[] => checkImports(edges).map(describeViolation);

describe('the real tree', () => {
  let graph: ImportEdge[] = [];
  beforeAll(() => {
    graph = readImportGraph(repositoryRoot());
  });

  test('is read whole: every layer, and imports of every kind', () => {
    const files = new Set(graph.map((e) => e.from));
    for (const file of ['base/process/Spawner.ts', 'mixer/Session.ts', 'src/server.ts', 'web/app.js', 'bin/mcu.js']) {
      expect(files).toContain(file);
    }
    const targets = graph.map((e) => `${e.from} -> ${e.to}`);
    expect(targets).toContain('bin/mcu.js -> src/cli.ts'); // a dynamic import
    expect(targets).toContain('src/http/tls.ts -> @peculiar/x509'); // a dynamic import of a package
    expect(targets).toContain('mixer/process/SessionProcess.ts -> mixer/process/sessionProcessMain.ts'); // started by path
    expect(targets).toContain('web/call.js -> web/signaling.js');
  });

  test('has no import that runs back up', () => {
    expect(broken(graph)).toEqual([]);
  });
});

describe('importsOf() reads every kind of import from the syntax tree', () => {
  const source = [
    "import { a } from './a.ts';",
    "import type { B } from '../base/b.ts';",
    "import './side-effect.ts';",
    "export { c } from './c.ts';",
    "export * from './d.ts';",
    "const e = await import('./e.ts');",
    "type F = typeof import('./f.ts');",
    "const g = require('./g.cjs');",
    "const entry = new URL('./main.ts', import.meta.url);",
    "const folder = new URL('../web/', import.meta.url);",
    "const name = './h.ts'; const h = await import(name);",
    "// import { no } from './comment.ts';",
    "const text = \"import { no } from './string.ts'\";",
    "import { dgram } from 'node:dgram';",
  ].join('\n');
  const edges = importsOf('mixer/x/y.ts', source);

  test('imports, type imports, export-from, dynamic imports, require and entry points by path', () => {
    expect(edges.map((e) => [e.line, e.to])).toEqual([
      [1, 'mixer/x/a.ts'],
      [2, 'mixer/base/b.ts'],
      [3, 'mixer/x/side-effect.ts'],
      [4, 'mixer/x/c.ts'],
      [5, 'mixer/x/d.ts'],
      [6, 'mixer/x/e.ts'],
      [7, 'mixer/x/f.ts'],
      [8, 'mixer/x/g.cjs'],
      [9, 'mixer/x/main.ts'],
      [11, null], // a dynamic import of a variable: reported, it cannot be checked
      [14, 'node:dgram'],
    ]);
  });
});

describe('checkImports() on a made-up graph', () => {
  test('allows what runs down', () => {
    expect(
      broken([
        edge('src/rooms/Room.ts', '../../mixer/Session.ts'),
        edge('src/rooms/Room.ts', '../../mixer/logic/layout.ts'),
        edge('src/rooms/Room.ts', '../../base/log/logger.ts'),
        edge('src/rooms/Room.ts', 'werift'),
        edge('mixer/Session.ts', '../base/TypedEmitter.ts'),
        edge('mixer/Session.ts', './ffmpeg/Compositor.ts'),
        edge('mixer/Session.ts', 'node:fs/promises'),
        edge('mixer/ffmpeg/Decoder.ts', '../logic/FramePool.ts'),
        edge('mixer/logic/layout.ts', './sourceSize.ts'),
        edge('mixer/logic/layout.ts', '../../base/rtp/payloadTypes.ts'),
        edge('mixer/logic/layout.ts', 'node:events'),
        edge('base/process/Spawner.ts', '../log/logger.ts'),
        edge('base/process/Spawner.ts', 'node:child_process'),
        edge('scripts/bench.ts', '../src/server.ts'),
        edge('test/unit/x.test.ts', '../../scripts/lib/processes.ts'),
        edge('bin/mcu.js', '../src/cli.ts'),
        edge('web/app.js', './stats.js'),
      ]),
    ).toEqual([]);
  });

  test('names the file, the line and the import of each that runs back up', () => {
    expect(
      broken([
        edge('base/net/ports.ts', '../../src/config.ts', 3),
        edge('base/process/Spawner.ts', '../../mixer/Session.ts', 4),
        edge('mixer/Session.ts', '../src/rooms/Room.ts', 5),
        edge('mixer/ffmpeg/Decoder.ts', '../../src/peers/offer.ts', 6),
        edge('mixer/logic/FrameClock.ts', '../ffmpeg/Compositor.ts', 7),
        edge('mixer/logic/FrameClock.ts', '../process/SessionProcess.ts', 8),
        edge('mixer/logic/FrameClock.ts', '../Session.ts', 9),
        edge('mixer/logic/FrameClock.ts', '../../base/process/Spawner.ts', 10),
        edge('mixer/logic/FrameClock.ts', '../../base/net/ports.ts', 11),
        edge('mixer/logic/FrameClock.ts', 'node:dgram', 12),
        edge('mixer/logic/FrameClock.ts', 'fs', 13),
        edge('mixer/logic/FrameClock.ts', 'node:child_process', 14),
        edge('src/rooms/Room.ts', '../../test/helpers/wait.ts', 15),
        edge('src/rooms/Room.ts', '../../scripts/lib/processes.ts', 16),
        edge('bin/mcu.js', '../test/helpers/wait.ts', 17),
        edge('web/app.js', '../src/signaling/messages.ts', 18),
        edge('web/app.js', 'zod', 19),
        { from: 'mixer/Session.ts', line: 20, specifier: '(expression)', to: null },
        edge('src/server.ts', '../../shared/config.ts', 21),
      ]),
    ).toEqual([
      "base/net/ports.ts:3 imports '../../src/config.ts': base/ may import only base/: not src/",
      "base/process/Spawner.ts:4 imports '../../mixer/Session.ts': base/ may import only base/: not mixer/",
      "mixer/Session.ts:5 imports '../src/rooms/Room.ts': mixer/ may import only mixer/, mixer/logic/, base/: not src/",
      "mixer/ffmpeg/Decoder.ts:6 imports '../../src/peers/offer.ts': mixer/ may import only mixer/, mixer/logic/, base/: not src/",
      "mixer/logic/FrameClock.ts:7 imports '../ffmpeg/Compositor.ts': mixer/logic/ may import only mixer/logic/, base/: not mixer/",
      "mixer/logic/FrameClock.ts:8 imports '../process/SessionProcess.ts': mixer/logic/ may import only mixer/logic/, base/: not mixer/",
      "mixer/logic/FrameClock.ts:9 imports '../Session.ts': mixer/logic/ may import only mixer/logic/, base/: not mixer/",
      "mixer/logic/FrameClock.ts:10 imports '../../base/process/Spawner.ts': mixer/logic/ is pure: it imports no process or socket module (base/process/Spawner.ts)",
      "mixer/logic/FrameClock.ts:11 imports '../../base/net/ports.ts': mixer/logic/ is pure: it imports no process or socket module (base/net/ports.ts)",
      "mixer/logic/FrameClock.ts:12 imports 'node:dgram': mixer/logic/ is pure: it imports no Node I/O module (node:dgram)",
      "mixer/logic/FrameClock.ts:13 imports 'fs': mixer/logic/ is pure: it imports no Node I/O module (fs)",
      "mixer/logic/FrameClock.ts:14 imports 'node:child_process': mixer/logic/ is pure: it imports no Node I/O module (node:child_process)",
      "src/rooms/Room.ts:15 imports '../../test/helpers/wait.ts': src/ may import only src/, mixer/, mixer/logic/, base/: not test/",
      "src/rooms/Room.ts:16 imports '../../scripts/lib/processes.ts': src/ may import only src/, mixer/, mixer/logic/, base/: not scripts/",
      "bin/mcu.js:17 imports '../test/helpers/wait.ts': bin/ may import only bin/, src/, mixer/, mixer/logic/, base/: not test/",
      "web/app.js:18 imports '../src/signaling/messages.ts': web/ may import only web/: not src/",
      "web/app.js:19 imports 'zod': web/ runs in the browser: it imports only web/ (zod)",
      "mixer/Session.ts:20 imports '(expression)': a dynamic import of no string literal cannot be checked",
      "src/server.ts:21 imports '../../shared/config.ts': imports from outside the repository (../shared/config.ts)",
    ]);
  });
});
