/**
 * How an attention block's scale reads: its effective value (the product of every constant factor
 * on Q, K and the scores; 1/√8 shown as such) and where its factors are applied (the contract's
 * AttentionBlockInfo.scaleSites). Shared by `attn inspect`, `attn import` and the Models page.
 */

/** Where one scaling factor is applied: on Q or K before the product, on the scores after it, or inside a fused op. */
export interface AttentionScaleSite {
  readonly on: 'q' | 'k' | 'scores' | 'fused';
  /** A Div or Mul node; a fused op's scale attribute, or its default 1/√d. */
  readonly op: 'div' | 'mul' | 'attribute' | 'default';
  /** The factor it multiplies by (a Div by √d: 1/√d); null where it is not a constant. */
  readonly factor: number | null;
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), Math.abs(b));
}

/** n where x = n^(1/root) for a whole n from 2 to 65536, else undefined. */
function wholeBase(x: number, power: number): number | undefined {
  const n = Math.pow(x, power);
  const r = Math.round(n);
  return r >= 2 && r <= 65536 && near(n, r) ? r : undefined;
}

/** A factor as a name where it has one: 1, 1/√8, √8, 8^-¼, 8^¼; else 4 significant digits. */
export function factorName(x: number): string {
  if (x <= 0 || !Number.isFinite(x)) return x.toPrecision(4);
  if (near(x, 1)) return '1';
  if (x < 1) {
    const sq = wholeBase(1 / x, 2);
    if (sq !== undefined) return `1/√${sq}`;
    const q4 = wholeBase(1 / x, 4);
    if (q4 !== undefined) return `${q4}^-¼`;
  } else {
    const sq = wholeBase(x, 2);
    if (sq !== undefined) return `√${sq}`;
    const q4 = wholeBase(x, 4);
    if (q4 !== undefined) return `${q4}^¼`;
  }
  return x.toPrecision(4);
}

/** The effective scale as text: "0.3536 (1/√8)", "1", "0.25", or "?" where computed at run time. */
export function formatScale(x: number | null): string {
  if (x === null) return '?';
  const name = factorName(x);
  const value = x.toPrecision(4);
  return name === '1' ? '1' : name === value ? value : `${value} (${name})`;
}

const SITE_NAMES: Record<AttentionScaleSite['on'], string> = { q: 'Q', k: 'K', scores: 'scores', fused: 'fused' };

/** Where the factors are, briefly: "scores", "Q", "Q+K", "Q+scores", "fused", or "none". */
export function scaleSitesShort(sites: readonly AttentionScaleSite[]): string {
  if (sites.length === 0) return 'none';
  const order: AttentionScaleSite['on'][] = ['q', 'k', 'scores', 'fused'];
  return order.filter((o) => sites.some((s) => s.on === o)).map((o) => SITE_NAMES[o]).join('+');
}

function siteText(s: AttentionScaleSite): string {
  if (s.on === 'fused') return s.op === 'default' ? 'inside the fused op (its default 1/√d)' : `inside the fused op (scale attribute ${s.factor === null ? '?' : factorName(s.factor)})`;
  const where = s.on === 'scores' ? 'after the product' : 'before the product';
  const what = SITE_NAMES[s.on];
  if (s.factor === null) return `${what} ${s.op === 'div' ? 'divided' : 'multiplied'} by a computed value ${where}`;
  return s.op === 'div' ? `${what} ÷ ${factorName(1 / s.factor)} ${where}` : `${what} × ${factorName(s.factor)} ${where}`;
}

/**
 * The scale in one line: its value and where it comes from, e.g. "scale 0.3536 (1/√8): Q × 8^-¼
 * before the product, K × 8^-¼ before the product".
 */
export function describeScale(effectiveScale: number | null, sites: readonly AttentionScaleSite[]): string {
  const value = `scale ${formatScale(effectiveScale)}`;
  if (sites.length === 0) return `${value}: nothing scales the scores in the graph (the scale may be folded into the Q or K weights)`;
  return `${value}: ${sites.map(siteText).join(', ')}`;
}
