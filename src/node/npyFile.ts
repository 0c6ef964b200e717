import { readFile, writeFile } from 'node:fs/promises';
import { decodeNpy, encodeNpy } from '../common/npy';
import type { Tensor } from '../common/tensor';

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** Read a .npy file; every error message starts with the file's path. */
export async function readNpyFile(path: string): Promise<Tensor> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') throw new Error(`${path}: file not found`);
    if (code === 'EISDIR') throw new Error(`${path}: is a directory, expected a .npy file`);
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`${path}: permission denied`);
    throw new Error(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return decodeNpy(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Write a tensor as a .npy file; errors name the file. */
export async function writeNpyFile(path: string, t: Tensor): Promise<void> {
  const bytes = encodeNpy(t);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') throw new Error(`${path}: cannot write: the folder does not exist`);
    throw new Error(`${path}: cannot write: ${(e as Error).message}`);
  }
}
