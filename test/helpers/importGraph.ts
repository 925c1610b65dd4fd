import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The import graph of the tree and the rule of imports (README, "How it is built"): imports run
 * one way, from the server down to the engine and the shared base, never back up.
 */

/** One module a source file depends on: an import, an export-from, a dynamic import, or a module
 * file it starts by path (`new URL('./x.ts', import.meta.url)`, a child process's entry point). */
export interface ImportEdge {
  /** Repository-relative path of the importing file, with `/`. */
  from: string;
  line: number;
  /** As written in the source. */
  specifier: string;
  /** Repository-relative path of the imported file for a relative specifier; else the
   * specifier (a package or a Node built-in), or null for a dynamic import of no literal. */
  to: string | null;
}

export interface Violation {
  edge: ImportEdge;
  reason: string;
}

/** The folders whose files are read; node_modules, artifacts and dot-folders are never entered. */
export const SOURCE_ROOTS = ['base', 'mixer', 'src', 'scripts', 'test', 'web', 'bin'];
const MODULE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Node modules that reach outside the process (files, sockets, children, the OS), which the pure
 * deciding logic must not touch: it takes time and events in and returns decisions. */
const NODE_IO = new Set([
  'child_process', 'cluster', 'dgram', 'dns', 'dns/promises', 'fs', 'fs/promises', 'http', 'http2',
  'https', 'inspector', 'module', 'net', 'os', 'readline', 'readline/promises', 'repl', 'tls', 'tty',
  'v8', 'vm', 'worker_threads',
]);

/** The part of the tree a path belongs to, most specific first. */
export function layerOf(path: string): string | null {
  if (path.startsWith('mixer/logic/')) return 'mixer/logic';
  const top = path.split('/')[0] ?? '';
  return SOURCE_ROOTS.includes(top) ? top : null;
}

/** Which layers each layer may import from the tree (packages and Node built-ins aside). A layer
 * not listed (scripts, test) may import anything. */
const ALLOWED: Record<string, readonly string[]> = {
  base: ['base'],
  mixer: ['mixer', 'mixer/logic', 'base'],
  'mixer/logic': ['mixer/logic', 'base'],
  src: ['src', 'mixer', 'mixer/logic', 'base'],
  bin: ['bin', 'src', 'mixer', 'mixer/logic', 'base'],
  web: ['web'],
};

/** Folders of base/ that do I/O (child processes, sockets and ports), closed to the pure logic. */
const LOGIC_CLOSED = ['base/process/', 'base/net/'];

/** What is wrong with one edge, or null. */
export function checkEdge(edge: ImportEdge): string | null {
  const layer = layerOf(edge.from);
  const allowed = layer ? ALLOWED[layer] : undefined;
  if (!layer || !allowed) return null;
  const to = edge.to;
  if (to === null) return 'a dynamic import of no string literal cannot be checked';
  if (!isTreePath(edge)) {
    if (layer === 'web') return `web/ runs in the browser: it imports only web/ (${to})`;
    if (layer === 'mixer/logic' && isBuiltin(to) && NODE_IO.has(to.replace(/^node:/, ''))) {
      return `mixer/logic/ is pure: it imports no Node I/O module (${to})`;
    }
    return null;
  }
  if (to.startsWith('../')) return `imports from outside the repository (${to})`;
  const target = layerOf(to);
  if (target && !allowed.includes(target)) {
    return `${layer}/ may import only ${allowed.map((l) => `${l}/`).join(', ')}: not ${target}/`;
  }
  if (layer === 'mixer/logic' && LOGIC_CLOSED.some((folder) => to.startsWith(folder))) {
    return `mixer/logic/ is pure: it imports no process or socket module (${to})`;
  }
  return null;
}

/** A file of this tree (a relative specifier), not a package or a Node built-in. */
const isTreePath = (edge: ImportEdge): boolean => edge.specifier.startsWith('.');

/** Every edge that breaks the rule. */
export function checkImports(edges: readonly ImportEdge[]): Violation[] {
  const found: Violation[] = [];
  for (const edge of edges) {
    const reason = checkEdge(edge);
    if (reason) found.push({ edge, reason });
  }
  return found;
}

/** One line per violation: the file, the line, the import, why. */
export function describeViolation({ edge, reason }: Violation): string {
  return `${edge.from}:${edge.line} imports '${edge.specifier}': ${reason}`;
}

/** The modules one source file depends on, read from its syntax tree (comments and strings that
 * merely look like imports are not imports). */
export function importsOf(from: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(from, text, ts.ScriptTarget.Latest, false);
  const edges: ImportEdge[] = [];
  const add = (node: ts.Node, specifier: string | null): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    edges.push({ from, line, specifier: specifier ?? '(expression)', to: specifier === null ? null : resolveSpecifier(from, specifier) });
  };
  const literal = (node: ts.Node | undefined): string | null =>
    node && ts.isStringLiteralLike(node) ? node.text : null;
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      add(node, literal(node.moduleSpecifier));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, literal(node.moduleReference.expression));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, literal(node.arguments[0]));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, literal(node.argument.literal));
    } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      add(node, literal(node.arguments[0]));
    } else if (isModuleUrl(node)) {
      add(node, literal(node.arguments?.[0]));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** `new URL('./entry.ts', import.meta.url)`: a module started by path, such as a child process's
 * entry point, is a dependency as much as an import is. Folders (static files) are not. */
function isModuleUrl(node: ts.Node): node is ts.NewExpression {
  if (!ts.isNewExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'URL') return false;
  const [path, base] = node.arguments ?? [];
  return !!path && ts.isStringLiteralLike(path) && MODULE_FILE.test(path.text) && path.text.startsWith('.') &&
    !!base && ts.isPropertyAccessExpression(base) && ts.isMetaProperty(base.expression) &&
    base.expression.keywordToken === ts.SyntaxKind.ImportKeyword && base.name.text === 'url';
}

/** Where a specifier written in `from` leads: a repository-relative path, or itself (a package,
 * a Node built-in). */
export function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return posix.normalize(posix.join(posix.dirname(from), specifier));
}

/** The import graph of every source file under the given root's SOURCE_ROOTS. */
export function readImportGraph(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const from = relative(root, file).split(sep).join('/');
    edges.push(...importsOf(from, readFileSync(file, 'utf8')));
  }
  return edges;
}

function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (MODULE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const top of SOURCE_ROOTS) {
    try {
      walk(join(root, top));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return files.sort();
}

/** This repository's root (the folder above test/). */
export const repositoryRoot = (): string => join(dirname(fileURLToPath(import.meta.url)), '..', '..');
