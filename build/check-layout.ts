// The house rules of docs/architecture.md, checked on every .ts file:
// who may import whom, who may read argv or end the process, and how long a
// file or a function may grow. `make layout` runs it (make test too);
// test/build/check-layout.test.ts checks that it catches what it should.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/** The product's folders: everything else (tests, lab, bench, build) only uses them. */
const PARTS = ['cli', 'client', 'server', 'engine', 'protocol'] as const
type Part = typeof PARTS[number]

export const MAX_FILE_LINES = 300
export const MAX_FUNCTION_LINES = 60

// What each part may import of the others. cli/ may import anything;
// engine/ is the bottom: it imports no other part (protocol/ imports its
// types, so engine importing protocol would make a cycle).
const MAY_IMPORT: Record<Part, readonly Part[]> = {
  cli: PARTS,
  client: ['client', 'engine', 'protocol'],
  server: ['server', 'engine', 'protocol'],
  engine: ['engine'],
  protocol: ['protocol', 'engine']
}

export interface Problem {
  file: string
  line: number
  message: string
}

/** Every .ts file git knows of under ROOT (tracked, or new and not ignored). */
export function sourceFiles (root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: root, encoding: 'utf8' })
  return out.split('\n').filter(f => f && !f.endsWith('.d.ts') && !f.startsWith('node_modules/'))
}

export function checkLayout (root: string, files = sourceFiles(root)): Problem[] {
  return files.flatMap(file => checkFile(root, file))
}

function checkFile (root: string, file: string): Problem[] {
  const text = readFileSync(path.join(root, file), 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const part = partOf(file)
  const problems: Problem[] = []
  const report = (node: ts.Node, message: string): void => {
    problems.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, message })
  }
  const visit = (node: ts.Node): void => {
    const imported = importOf(node)
    if (imported) checkImport(file, part, imported, node, report)
    if (part && part !== 'cli') checkProcess(node, report)
    if (part) checkLength(source, node, report)
    ts.forEachChild(node, visit)
  }
  visit(source)
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (part && lines > MAX_FILE_LINES) problems.push({ file, line: 1, message: `${lines} lines, more than ${MAX_FILE_LINES}: split it by concern` })
  return problems
}

interface Imported {
  specifier: string
  /** Only types: erased at build time. */
  typeOnly: boolean
}

function importOf (node: ts.Node): Imported | undefined {
  if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
    const clause = node.importClause
    const bindings = clause?.namedBindings
    const allTypes = !!clause && !clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every(e => e.isTypeOnly)
    return { specifier: node.moduleSpecifier.text, typeOnly: !!clause?.isTypeOnly || allTypes }
  }
  if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
    return { specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly }
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const [arg] = node.arguments
    return arg && ts.isStringLiteral(arg) ? { specifier: arg.text, typeOnly: false } : undefined
  }
  return undefined
}

function checkImport (file: string, from: Part | undefined, imported: Imported, node: ts.Node, report: (node: ts.Node, message: string) => void): void {
  if (imported.specifier === 'webtorrent' && !file.startsWith('engine/swarm/')) {
    return report(node, 'imports webtorrent: only engine/swarm/ does; the rest sees the swarm through its types')
  }
  if (!imported.specifier.startsWith('.')) return
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), imported.specifier))
  const to = partOf(target)
  if (!to) return
  if (to === 'cli' && from !== 'cli' && !file.startsWith('test/')) {
    return report(node, `imports ${target}: nothing outside cli/ imports cli/ (the command line is the top, tests excepted)`)
  }
  if (!from || MAY_IMPORT[from].includes(to) === false) {
    if (from) report(node, `imports ${target}: ${from}/ may import only ${MAY_IMPORT[from].join(', ')} (docs/architecture.md)`)
    return
  }
  if (from === 'protocol' && to === 'engine' && !imported.typeOnly) {
    report(node, `imports ${target} for its values: protocol/ imports only types of engine/ (use import type)`)
  }
}

function checkProcess (node: ts.Node, report: (node: ts.Node, message: string) => void): void {
  if (!ts.isPropertyAccessExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'process') return
  const name = node.name.text
  if (name === 'argv' || name === 'exit') report(node, `uses process.${name}: only cli/ reads the command line or ends the process`)
}

function checkLength (source: ts.SourceFile, node: ts.Node, report: (node: ts.Node, message: string) => void): void {
  if (!ts.isFunctionLike(node) || !('body' in node) || !node.body) return
  const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line
  const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
  const lines = last - first + 1
  if (lines > MAX_FUNCTION_LINES) report(node, `a function of ${lines} lines, more than ${MAX_FUNCTION_LINES}: split it into named steps`)
}

function partOf (file: string): Part | undefined {
  const top = file.split('/')[0]
  return PARTS.find(p => p === top)
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dirname, '..')
  const problems = checkLayout(root)
  for (const p of problems) process.stderr.write(`${p.file}:${p.line}: ${p.message}\n`)
  process.stderr.write(problems.length ? `layout: ${problems.length} problems\n` : 'layout: every import follows docs/architecture.md\n')
  process.exit(problems.length ? 1 : 0)
}
