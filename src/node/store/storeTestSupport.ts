/**
 * What the store's tests share: a temporary folder per test with the stores opened in it (closed
 * and removed afterwards), a raw connection to look under the repositories, a queued run, and a
 * check of a StoreError's code and message. Used only by `*.test.ts` in this folder.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { Store, StoreError } from './store';
import type { OpenOptions } from './store';

export interface StoreSandbox {
  /** This test's temporary folder. */
  readonly dir: string;
  /** Opens a store (by default in a nested folder of `dir`, which opening creates); closed after the test. */
  openStore(file?: string, opts?: OpenOptions): Store;
}

/** Registers the per-test folder and the closing of the stores opened through the sandbox. */
export function useStoreSandbox(): StoreSandbox {
  let dir = '';
  const open: Store[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attn-store-'));
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    openStore(file = join(dir, 'nested', 'folder', 'w.sqlite'), opts: OpenOptions = {}): Store {
      const s = Store.open(file, opts);
      open.push(s);
      return s;
    },
  };
}

/** A plain better-sqlite3 connection to the file, bypassing the store. */
export function raw(file: string): Database.Database {
  return new Database(file);
}

/** A queued kernel-scaling run in experiment `exp` (created if needed). */
export function newRun(store: Store, spec: unknown = { kind: 'kernel-scaling', n: [64, 128] }): number {
  const experimentId = store.experiments.ensure({ name: 'exp', kind: 'kernel-scaling' });
  return store.runs.create({ experimentId, kind: 'kernel-scaling', spec, seed: 7, versions: { workbench: '0.1.0', node: process.version } });
}

/** Expects `fn` to throw a StoreError with this code (and, if given, a message matching). */
export function expectStoreError(fn: () => unknown, code: StoreError['code'], message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  if (message) expect((caught as StoreError).message).toMatch(message);
}

/** The bytes and times of a file, to show it was left untouched. */
export function snapshot(file: string): { bytes: Buffer; mtimeMs: number; size: number } {
  const st = statSync(file);
  return { bytes: readFileSync(file), mtimeMs: st.mtimeMs, size: st.size };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
