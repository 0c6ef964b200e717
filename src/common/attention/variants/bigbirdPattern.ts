/**
 * The BigBird key pattern (variants/bigbird.ts), with I = ⌊i/block⌋, J = ⌊j/block⌋:
 * |I − J| <= (windowBlocks − 1)/2, or J < globalBlocks, or I < globalBlocks, or J is one of the
 * randomBlocks key blocks drawn for query block I from the seed. The random blocks depend on the
 * number of key blocks, so the pattern needs Sk.
 */
import { SeededRandom, deriveSeed } from '../../random';
import type { MaskPattern } from '../maskPattern';
import type { SpecOf } from '../spec';

/** Half-width of BigBird's window in blocks: |I − J| <= (windowBlocks − 1) / 2. */
export function bigbirdWindowRadius(spec: SpecOf<'bigbird'>): number {
  return (spec.windowBlocks - 1) / 2;
}

/**
 * BigBird's random key blocks, for every query block I in [0, queryBlocks): result[I] lists
 * (ascending) min(randomBlocks, candidates) DISTINCT key blocks drawn uniformly without
 * replacement from the candidates: the key blocks [0, keyBlocks) that are neither in I's window
 * (|I − J| <= (windowBlocks − 1)/2) nor global (J < globalBlocks), as in the BigBird paper. So
 * random blocks never duplicate window or global blocks, and when fewer candidates than
 * randomBlocks exist, all of them are taken.
 *
 * Each query block has its own generator, SeededRandom(deriveSeed(seed, I, keyBlocks)), and uses
 * a partial Fisher-Yates shuffle of the ascending candidate list: block I's draw depends only on
 * (seed, I, keyBlocks, windowBlocks, globalBlocks, randomBlocks), not on the number of query
 * blocks. The draw does not depend on causal (causal masks J > I afterwards, like any pattern);
 * draws are made for global query blocks too although they see every key anyway.
 */
export function bigbirdRandomBlocks(spec: SpecOf<'bigbird'>, queryBlocks: number, keyBlocks: number): number[][] {
  const radius = bigbirdWindowRadius(spec);
  const result: number[][] = [];
  for (let I = 0; I < queryBlocks; I++) {
    const candidates: number[] = [];
    for (let J = 0; J < keyBlocks; J++) {
      if (Math.abs(I - J) > radius && J >= spec.globalBlocks) candidates.push(J);
    }
    const take = Math.min(spec.randomBlocks, candidates.length);
    const rng = new SeededRandom(deriveSeed(spec.seed, I, keyBlocks));
    for (let t = 0; t < take; t++) {
      const pick = t + Math.floor(rng.nextFloat() * (candidates.length - t));
      const a = candidates[t] as number;
      candidates[t] = candidates[pick] as number;
      candidates[pick] = a;
    }
    result.push(candidates.slice(0, take).sort((x, y) => x - y));
  }
  return result;
}

/**
 * The key blocks a non-global BigBird query block I sees (ignoring causal), ascending and
 * distinct: its window, the global blocks and its random blocks, all below keyBlocks.
 */
export function bigbirdKeyBlocks(spec: SpecOf<'bigbird'>, I: number, keyBlocks: number, random: readonly number[]): number[] {
  const radius = bigbirdWindowRadius(spec);
  const set = new Set<number>();
  for (let J = Math.max(0, I - radius); J <= Math.min(keyBlocks - 1, I + radius); J++) set.add(J);
  for (let J = 0; J < Math.min(spec.globalBlocks, keyBlocks); J++) set.add(J);
  for (const J of random) if (J < keyBlocks) set.add(J);
  return [...set].sort((x, y) => x - y);
}

const randomCache = new WeakMap<object, Map<number, number[][]>>();
/** Random blocks for every query block up to `queryBlocks`, memoised per spec object and key-block count. */
function cachedRandomBlocks(spec: SpecOf<'bigbird'>, queryBlocks: number, keyBlocks: number): number[][] {
  let bySize = randomCache.get(spec);
  if (bySize === undefined) {
    bySize = new Map();
    randomCache.set(spec, bySize);
  }
  let blocks = bySize.get(keyBlocks);
  if (blocks === undefined || blocks.length < queryBlocks) {
    blocks = bigbirdRandomBlocks(spec, Math.max(queryBlocks, blocks?.length ?? 0), keyBlocks);
    bySize.set(keyBlocks, blocks);
  }
  return blocks;
}

function needSeqK(seqK: number | undefined, what: string): number {
  if (seqK === undefined) throw new Error(`the bigbird pattern depends on the number of keys: pass seqK to ${what}`);
  return seqK;
}

export const bigbirdPattern: MaskPattern<SpecOf<'bigbird'>> = {
  allows: (spec, i, j, seqK) => {
    const keys = needSeqK(seqK, 'keyAllowed');
    const I = Math.floor(i / spec.block);
    const J = Math.floor(j / spec.block);
    if (Math.abs(I - J) <= bigbirdWindowRadius(spec) || J < spec.globalBlocks || I < spec.globalBlocks) return true;
    const keyBlocks = Math.ceil(keys / spec.block);
    return (cachedRandomBlocks(spec, I + 1, keyBlocks)[I] ?? []).includes(J);
  },
  firstAllowedKey: (spec, i, causal, seqK) => {
    const keys = needSeqK(seqK, 'firstAllowedKey');
    const B = spec.block;
    const I = Math.floor(i / B);
    if (I < spec.globalBlocks || spec.globalBlocks > 0) return 0;
    let first = Math.max(0, I - bigbirdWindowRadius(spec)) * B;
    for (const J of cachedRandomBlocks(spec, I + 1, Math.ceil(keys / B))[I] ?? []) {
      if (J * B < first && (!causal || J * B <= i)) first = J * B;
    }
    return first;
  },
  // Closed form for n = Sq = Sk, not causal: a global query block sees all n keys, any other the
  // keys of its key blocks.
  allowedPairs: (spec, seqQ, seqK, causal) => {
    if (causal || seqQ !== seqK) return undefined;
    const n = seqQ;
    const blocks = Math.ceil(n / spec.block);
    const size = (J: number) => Math.min(spec.block, n - J * spec.block);
    const random = bigbirdRandomBlocks(spec, blocks, blocks);
    let pairs = 0;
    for (let I = 0; I < blocks; I++) {
      const keys = I < spec.globalBlocks ? n : bigbirdKeyBlocks(spec, I, blocks, random[I] ?? []).reduce((a, J) => a + size(J), 0);
      pairs += size(I) * keys;
    }
    return pairs;
  },
  prepare: (spec, seqQ, seqK) => {
    cachedRandomBlocks(spec, Math.ceil(seqQ / spec.block), Math.ceil(seqK / spec.block));
  },
};
