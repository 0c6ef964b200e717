/**
 * Serving the built renderer: only regular files inside its folder (symlinks resolved and
 * checked again), no `..`, `.` or hidden segments, with a content type per extension.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SECURITY_HEADERS, sendText } from './responses';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

/** The renderer folder with symlinks resolved; it must hold an index.html. */
export async function resolveRendererRoot(rendererDir: string): Promise<string> {
  let root: string;
  try {
    root = await fs.realpath(path.resolve(rendererDir));
  } catch {
    throw new Error(`The renderer build was not found at ${rendererDir}; run \`npm run build\` first.`);
  }
  const index = await fs.stat(path.join(root, 'index.html')).catch(() => undefined);
  if (!index?.isFile()) {
    throw new Error(`No index.html in ${root}; run \`npm run build\` first.`);
  }
  return root;
}

/**
 * Maps a raw (still percent-encoded) request path to path segments under the renderer root, or
 * null when it is malformed or tries to leave the root: `..` and `.` segments (encoded or not),
 * hidden files, backslashes, NUL and empty segments are all refused.
 */
export function requestPathToRelative(rawPath: string): string[] | null {
  if (rawPath === '/') return ['index.html'];
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.slice(1).split('/');
  for (const segment of segments) {
    if (segment.length === 0 || segment.startsWith('.') || segment.includes(':')) return null;
  }
  return segments;
}

/** The regular file the segments name inside `root` (symlinks resolved and re-checked). */
async function findFile(root: string, segments: string[]): Promise<{ path: string; size: number } | null> {
  const candidate = path.resolve(root, ...segments);
  if (!isInside(root, candidate)) return null;
  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch {
    return null;
  }
  if (!isInside(root, real)) return null;
  const stat = await fs.stat(real).catch(() => undefined);
  if (!stat?.isFile()) return null;
  return { path: real, size: stat.size };
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Answers a GET or HEAD of `rawPath` with the renderer file it names, 400 or 404. */
export async function serveStaticFile(req: IncomingMessage, res: ServerResponse, root: string, rawPath: string, extraHeaders: OutgoingHttpHeaders): Promise<void> {
  const relative = requestPathToRelative(rawPath);
  if (relative === null) {
    sendText(res, 400, 'Bad request path.', extraHeaders);
    return;
  }
  const file = await findFile(root, relative);
  if (!file) {
    sendText(res, 404, 'Not found.', extraHeaders);
    return;
  }
  const ext = path.extname(file.path).toLowerCase();
  const headers: OutgoingHttpHeaders = {
    ...SECURITY_HEADERS,
    ...extraHeaders,
    'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': file.size,
    'Cache-Control': ext === '.html' ? 'no-store' : 'private, no-cache',
  };
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await pipeline(createReadStream(file.path), res);
}
