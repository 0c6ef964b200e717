/**
 * Which keys each query may attend to, for the masked-softmax variants (exact, sliding, strided,
 * fixed, longformer, bigbird): the definitions of spec.ts, literally. Used by the float64
 * reference and by the graph builders to derive their index sets.
 *
 * Positions are absolute (query i in [0, Sq), key j in [0, Sk)); causal additionally requires
 * j <= i. Padding is not part of a pattern (the reference and the graphs remove keys
 * j >= keyLength[b] on top of it).
 *
 * BigBird's random blocks depend on the number of key blocks, so its pattern needs Sk: pass
 * `seqK` to keyAllowed (or use keyMaskOf, which also precomputes the draws once).
 */
import { SeededRandom, deriveSeed } from '../random';
import type { SpecOf, VariantSpec } from './spec';

export type MaskPatternSpec = SpecOf<'exact' | 'sliding' | 'strided' | 'fixed' | 'longformer' | 'bigbird'>;

const PATTERN_KINDS = new Set(['exact', 'sliding', 'strided', 'fixed', 'longformer', 'bigbird']);
export function isMaskPattern(spec: VariantSpec): spec is MaskPatternSpec {
  return PATTERN_KINDS.has(spec.kind);
}

/** Sliding window extent in dilation steps: allowed i − j = m·dilation with m ∈ [−right, left]. */
export function slidingSteps(spec: SpecOf<'sliding'>): { left: number; right: number; dilation: number } {
  return { left: spec.left ?? spec.window, right: spec.right ?? spec.window, dilation: spec.dilation };
}

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

function patternAllows(spec: MaskPatternSpec, i: number, j: number, seqK: number | undefined): boolean {
  switch (spec.kind) {
    case 'exact':
      return true;
    case 'sliding': {
      const { left, right, dilation } = slidingSteps(spec);
      const d = i - j;
      return d <= left * dilation && -d <= right * dilation && d % dilation === 0;
    }
    case 'strided': {
      const d = i - j;
      return Math.abs(d) <= spec.stride || d % spec.stride === 0;
    }
    case 'fixed':
      return Math.floor(i / spec.block) === Math.floor(j / spec.block) || j % spec.block >= spec.block - spec.summary;
    case 'longformer':
      return Math.abs(i - j) <= spec.window || spec.global.includes(j) || spec.global.includes(i);
    case 'bigbird': {
      if (seqK === undefined) throw new Error('the bigbird pattern depends on the number of keys: pass seqK to keyAllowed');
      const I = Math.floor(i / spec.block);
      const J = Math.floor(j / spec.block);
      if (Math.abs(I - J) <= bigbirdWindowRadius(spec) || J < spec.globalBlocks || I < spec.globalBlocks) return true;
      const keyBlocks = Math.ceil(seqK / spec.block);
      return (cachedRandomBlocks(spec, I + 1, keyBlocks)[I] ?? []).includes(J);
    }
  }
}

/**
 * Is key j visible to query i (ignoring padding)? `seqK` (the number of keys) is needed by
 * bigbird only, whose random blocks are drawn among ⌈Sk/block⌉ key blocks.
 */
export function keyAllowed(spec: MaskPatternSpec, i: number, j: number, causal: boolean, seqK?: number): boolean {
  if (causal && j > i) return false;
  return patternAllows(spec, i, j, seqK);
}

/**
 * The smallest key j >= 0 that query i may attend to (ignoring padding and the number of keys),
 * in closed form per pattern. With key length ℓ (ℓ <= Sk), query i has an allowed key iff
 * firstAllowedKey(i) < ℓ: the graphs use it to zero rows with no key. `seqK` is needed by bigbird.
 */
export function firstAllowedKey(spec: MaskPatternSpec, i: number, causal: boolean, seqK?: number): number {
  switch (spec.kind) {
    case 'exact':
      return 0;
    case 'sliding': {
      const { left, dilation } = slidingSteps(spec);
      return i - dilation * Math.min(left, Math.floor(i / dilation));
    }
    case 'strided':
      return Math.min(i % spec.stride, Math.max(0, i - spec.stride));
    case 'fixed': {
      const own = Math.floor(i / spec.block) * spec.block;
      const summary = spec.block - spec.summary;
      return !causal || summary <= i ? Math.min(own, summary) : own;
    }
    case 'longformer': {
      if (spec.global.includes(i)) return 0;
      let first = Math.max(0, i - spec.window);
      for (const g of spec.global) if (g < first && (!causal || g <= i)) first = g;
      return first;
    }
    case 'bigbird': {
      if (seqK === undefined) throw new Error('the bigbird pattern depends on the number of keys: pass seqK to firstAllowedKey');
      const B = spec.block;
      const I = Math.floor(i / B);
      if (I < spec.globalBlocks || spec.globalBlocks > 0) return 0;
      let first = Math.max(0, I - bigbirdWindowRadius(spec)) * B;
      for (const J of cachedRandomBlocks(spec, I + 1, Math.ceil(seqK / B))[I] ?? []) {
        if (J * B < first && (!causal || J * B <= i)) first = J * B;
      }
      return first;
    }
  }
}

/** keyAllowed for fixed lengths, with BigBird's draws made once. */
export interface KeyMask {
  allowed(i: number, j: number): boolean;
  /** See firstAllowedKey. */
  firstKey(i: number): number;
}

export function keyMaskOf(spec: MaskPatternSpec, seqQ: number, seqK: number, causal: boolean): KeyMask {
  if (spec.kind === 'bigbird') cachedRandomBlocks(spec, Math.ceil(seqQ / spec.block), Math.ceil(seqK / spec.block));
  return {
    allowed: (i, j) => keyAllowed(spec, i, j, causal, seqK),
    firstKey: (i) => firstAllowedKey(spec, i, causal, seqK),
  };
}
