// The size rules of issue 11, held by a test so they cannot silently regress: no
// hand-written source file over 400 lines, and no class with more than 15 fields. Tests,
// test helpers under a test/ folder, benches and generated code (a gen/ or generated/
// folder) are aside. The files are the ones git tracks, so a build output or a scratch
// file does not count.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_LINES = 400;
const MAX_FIELDS = 15;

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const ASIDE = [/(^|\/)(test|tests|bench|gen|generated|node_modules)\//, /\.test\.(ts|mts|js|mjs)$/];

/** Hand-written sources tracked by git, relative to the repository root. */
function sources(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\0')
    .filter((f) => SOURCE.test(f) && !ASIDE.some((re) => re.test(f)))
    .sort();
}

function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** A property initialized with a function is a method written as a field, not state. */
function isFunction(init: ts.Expression | undefined): boolean {
  return init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init));
}

/**
 * Fields of each class in `text`: its property declarations (instance and static,
 * `#private` ones and accessors declared with `accessor` included; methods, get/set and
 * properties initialized with a function are not fields) plus its constructor's parameter
 * properties (`private readonly x`).
 */
function classFields(fileName: string, text: string): { name: string; line: number; fields: number }[] {
  const kind = /\.(js|mjs|cjs)$/.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, kind);
  const out: { name: string; line: number; fields: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) {
      let fields = 0;
      for (const member of node.members) {
        if (ts.isPropertyDeclaration(member) && !isFunction(member.initializer)) fields++;
        else if (ts.isConstructorDeclaration(member))
          fields += member.parameters.filter((p) => ts.isParameterPropertyDeclaration(p, member)).length;
      }
      const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
      out.push({ name: node.name?.text ?? '(anonymous)', line, fields });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

describe('source limits (issue 11)', () => {
  const files = sources();

  it('finds the sources (git lists them)', () => {
    assert.ok(files.length > 100, `only ${files.length} sources listed`);
    assert.ok(files.includes('scripts/build.mjs') && files.includes('server/src/app.ts'));
    assert.ok(
      !files.some((f) => f.endsWith('.test.ts') || f.includes('/gen/')),
      'tests and generated code are aside',
    );
  });

  it(`no hand-written source file over ${MAX_LINES} lines`, () => {
    const over = files
      .map((f) => ({ f, lines: lineCount(readFileSync(join(ROOT, f), 'utf8')) }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f}: ${x.lines} lines`);
    assert.deepEqual(over, [], 'split these by job');
  });

  it(`no class with more than ${MAX_FIELDS} fields`, () => {
    const over: string[] = [];
    let classes = 0;
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      if (!text.includes('class')) continue;
      for (const c of classFields(f, text)) {
        classes++;
        if (c.fields > MAX_FIELDS) over.push(`${f}:${c.line} ${c.name}: ${c.fields} fields`);
      }
    }
    assert.ok(classes > 50, `only ${classes} classes found: is the parser reading the files?`);
    assert.deepEqual(over, [], 'give these classes fewer jobs');
  });

  it('the counters count what they say', () => {
    assert.equal(lineCount(''), 0);
    assert.equal(lineCount('a\nb\n'), 2);
    assert.equal(lineCount('a\nb'), 2);
    const text = `
      class A {
        a = 1;
        #b = 2;
        static c = 3;
        declare d: number;
        accessor e = 5;
        get f() { return 1; }
        g() {}
        h2 = () => 1;
        constructor(private readonly h: number, public i: string, j: number, readonly k = 0) {}
      }
      const B = class { x = 1; constructor(protected y: number) {} };
    `;
    assert.deepEqual(
      classFields('x.ts', text).map((c) => [c.name, c.fields]),
      [
        ['A', 8],
        ['(anonymous)', 2],
      ],
    );
    assert.deepEqual(
      classFields('x.mjs', 'export class C { a = 1; #b; static c = 2; m() {} }').map((c) => c.fields),
      [3],
    );
    const wide = `class W {\n${Array.from({ length: MAX_FIELDS + 1 }, (_, k) => `  f${k} = ${k};`).join('\n')}\n}`;
    assert.equal(classFields('w.ts', wide)[0]!.fields, MAX_FIELDS + 1);
  });
});
