/**
 * Where the workbench keeps its data, per platform, and which database file a host opens.
 * Pure functions of their arguments (environment, platform, home folder, cwd), so every
 * platform's answer can be tested on any machine: Windows paths are built with path.win32,
 * the others with path.posix.
 */
import { homedir } from 'node:os';
import path from 'node:path';

export const APP_DIR_NAME = 'Attention Workbench';
export const APP_DIR_NAME_XDG = 'attention-workbench';
export const DB_FILE_NAME = 'workbench.sqlite';
/** Environment variable naming the database file. */
export const DB_ENV_VAR = 'ATTN_DB';

type Env = Readonly<Record<string, string | undefined>>;

function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** An environment variable, or undefined when unset or blank. Names are case-insensitive on Windows. */
function envValue(env: Env, name: string, platform: NodeJS.Platform): string | undefined {
  let value = env[name];
  if (value === undefined && platform === 'win32') {
    const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
    value = key === undefined ? undefined : env[key];
  }
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * The per-user data folder:
 * - Linux and other Unix: `$XDG_DATA_HOME/attention-workbench`, or `~/.local/share/attention-workbench`
 *   when XDG_DATA_HOME is unset or not absolute (as the XDG spec says to ignore relative values);
 * - macOS: `~/Library/Application Support/Attention Workbench`;
 * - Windows: `%APPDATA%\Attention Workbench`, or `~\AppData\Roaming\Attention Workbench` without APPDATA.
 */
export function defaultDataDir(env: Env = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const p = pathFor(platform);
  if (platform === 'win32') {
    const appData = envValue(env, 'APPDATA', platform);
    return p.join(appData ?? p.join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  }
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', APP_DIR_NAME);
  const xdg = envValue(env, 'XDG_DATA_HOME', platform);
  if (xdg !== undefined && p.isAbsolute(xdg)) return p.join(xdg, APP_DIR_NAME_XDG);
  return p.join(home, '.local', 'share', APP_DIR_NAME_XDG);
}

export interface ResolveDbPathOptions {
  /** The CLI's `--db` value; beats everything else. An empty value is an error. */
  cliPath?: string;
  env?: Env;
  platform?: NodeJS.Platform;
  home?: string;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
}

/**
 * The database file to open: `--db` beats `$ATTN_DB` beats `<defaultDataDir>/workbench.sqlite`.
 * Relative paths are resolved against `cwd`; a leading `~` (or `~/`, `~\` on Windows) is the
 * home folder, for values that no shell expanded (e.g. set in a .env file or a launcher).
 * `:memory:` is passed through unchanged (an in-memory store, for tests).
 */
export function resolveDbPath(opts: ResolveDbPathOptions = {}): string {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const home = opts.home ?? homedir();
  const p = pathFor(platform);
  let chosen: string;
  if (opts.cliPath !== undefined) {
    if (opts.cliPath.trim() === '') throw new Error('--db needs a file path');
    chosen = opts.cliPath;
  } else {
    chosen = envValue(env, DB_ENV_VAR, platform) ?? p.join(defaultDataDir(env, platform, home), DB_FILE_NAME);
  }
  if (chosen === ':memory:') return chosen;
  if (chosen === '~') chosen = home;
  else if (chosen.startsWith('~/') || (platform === 'win32' && chosen.startsWith('~\\'))) chosen = p.join(home, chosen.slice(2));
  return p.resolve(opts.cwd ?? process.cwd(), chosen);
}
