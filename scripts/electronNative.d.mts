// Types for scripts/electronNative.mjs (imported by the TypeScript Electron smoke test).
export declare const projectRoot: string;
export declare const ELECTRON_MISSING_HELP: string;
export declare function electronVersion(root?: string): string;
export declare function electronBinaryPath(root?: string): string | null;
export declare function electronSqliteBindingPath(version?: string, root?: string): string;
export declare function buildSqliteBinding(options: {
  outFile: string;
  gypArgs: readonly string[];
  root?: string;
  log?: (message: string) => void;
}): void;
export declare function ensureElectronSqliteBinding(options?: { root?: string; log?: (message: string) => void }): string;
