#!/usr/bin/env node
// Lists functions (declarations, methods, arrow functions and function expressions) longer than
// a limit (default 80 lines) in the project's TypeScript, longest first: `node scripts/longFunctions.mjs [limit]`.
// Test files are left out. Used to keep functions as named steps (README "Architecture").
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const limit = Number(process.argv[2] ?? 80);
const files = execSync('git ls-files --cached --others --exclude-standard -- "*.ts"', { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
const rows = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue;
  }
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.end).line + 1;
      const lines = end - start + 1;
      if (lines > limit) {
        let name = node.name?.getText(sf);
        if (!name && ts.isVariableDeclaration(node.parent)) name = node.parent.name.getText(sf);
        if (!name && ts.isPropertyAssignment(node.parent)) name = node.parent.name.getText(sf);
        rows.push({ file, start, lines, name: name ?? '(anonymous)' });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
rows.sort((a, b) => b.lines - a.lines);
for (const r of rows) console.log(`${String(r.lines).padStart(4)}  ${r.file}:${r.start}  ${r.name}`);
console.log(`${rows.length} function(s) over ${limit} lines`);
