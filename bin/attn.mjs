#!/usr/bin/env node
// `attn` command: runs the built CLI (out/main/cli.js). Build it with `npm run build`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(`attn: the workbench is not built yet (${cli} is missing). Run \`npm run build\` first.\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
await main(process.argv);
