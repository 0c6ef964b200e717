/** Axis ticks, scales and number formatting shared by every plot. */

/** Rounds away binary noise such as 0.30000000000000004. */
function clean(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}

/** A "nice" step (1, 2 or 5 times a power of ten) giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const mantissa = raw / power;
  const nice = mantissa < 1.5 ? 1 : mantissa < 3 ? 2 : mantissa < 7 ? 5 : 10;
  return clean(nice * power);
}

/** Multiples of a nice step inside [min, max] (both ends included when they fall on the step). */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min > max) [min, max] = [max, min];
  if (min === max) return [clean(min)];
  const step = niceStep(max - min, count);
  const eps = step * 1e-9;
  const first = Math.ceil((min - eps) / step);
  const last = Math.floor((max + eps) / step);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(clean(i * step));
  return ticks;
}

/** Keeps every k-th element (always the first) so that at most `maxCount` remain. */
function thin(values: number[], maxCount: number): number[] {
  if (values.length <= maxCount || maxCount < 1) return values;
  const k = Math.ceil(values.length / maxCount);
  return values.filter((_, i) => i % k === 0);
}

/**
 * Ticks for a logarithmic axis over [min, max] (min > 0): powers of ten when at least three fall
 * inside; otherwise 1-2-5 (or, when those are too many, 1-3) multiples of powers of ten; and
 * nice linear ticks for a range too narrow for either.
 */
export function logTicks(min: number, max: number, maxCount = 8): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min > max) [min, max] = [max, min];
  const inside = (v: number): boolean => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const multiples = (mantissas: readonly number[]): number[] => {
    const out: number[] = [];
    for (let k = lo; k <= hi; k++) {
      for (const m of mantissas) {
        const v = clean(m * 10 ** k);
        if (inside(v)) out.push(v);
      }
    }
    return out;
  };
  const decades = multiples([1]);
  if (decades.length >= 3) return thin(decades, maxCount);
  for (const mantissas of [[1, 2, 5], [1, 3]]) {
    const t = multiples(mantissas);
    if (t.length >= 2 && t.length <= maxCount) return t;
  }
  if (decades.length >= 2) return decades;
  return linearTicks(min, max, 3).filter((v) => v > 0);
}

/** Integer powers of two inside [min, max] (min > 0), thinned to at most `maxCount`. */
export function pow2Ticks(min: number, max: number, maxCount = 8): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min > max) [min, max] = [max, min];
  const ticks: number[] = [];
  for (let k = Math.ceil(Math.log2(min) - 1e-9); k <= Math.floor(Math.log2(max) + 1e-9); k++) ticks.push(2 ** k);
  return thin(ticks, maxCount);
}

/** True when every value is an integer power of two (1, 2, 4, ...). */
export function allPowersOfTwo(values: readonly number[]): boolean {
  return values.length > 0 && values.every((v) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0);
}

function exponential(v: number, digits: number): string {
  const [mant = '', exp = '0'] = v.toExponential(digits).split('e');
  const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  return `${m}e${Number(exp)}`;
}

/** Short label for an axis tick: 1024, 0.25, 1e-7, 2.5e6. */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return exponential(v, 2);
  if (Number.isInteger(v)) return String(v);
  return String(clean(Number(v.toPrecision(4))));
}

/** A measured value with `significant` digits: 3.14e-7, 12.3, 1235, 0.0421. */
export function formatValue(v: number, significant = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9 || a < 1e-3) return exponential(v, significant - 1);
  if (a >= 10 ** significant) return String(Math.round(v));
  return String(Number(v.toPrecision(significant)));
}

/** Maps a data interval onto a pixel interval, linearly or in log10 space. */
export function axisScale(domain: readonly [number, number], range: readonly [number, number], log = false): (v: number) => number {
  const f = log ? (v: number): number => Math.log10(v) : (v: number): number => v;
  const d0 = f(domain[0]);
  const d1 = f(domain[1]);
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((f(v) - d0) / (d1 - d0)) * (r1 - r0);
}

/**
 * The interval an axis shows for the given data: the data range widened by `pad` of its span
 * on both sides (in log10 space for log axes); a single value gets a range around it.
 */
export function paddedDomain(min: number, max: number, log: boolean, pad = 0.05): [number, number] {
  if (log) {
    let lo = Math.log10(min);
    let hi = Math.log10(max);
    if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    } else {
      const p = (hi - lo) * pad;
      lo -= p;
      hi += p;
    }
    return [10 ** lo, 10 ** hi];
  }
  if (max === min) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - d, max + d];
  }
  const p = (max - min) * pad;
  // A non-negative quantity keeps its axis at or above zero.
  return [min >= 0 && min - p < 0 ? 0 : min - p, max + p];
}
