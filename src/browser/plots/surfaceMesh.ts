/**
 * Pure geometry of the 3D surface: vertex positions, colours, triangles and grid lines for a
 * (sequence length x parameter) grid, in a unit box. three.js only uploads the arrays.
 *
 * Coordinates: x in [-1, 1] is the sequence length (log2 spaced), z in [-1, 1] the parameter
 * (log2 spaced when all values are positive, else linear), y in [0, height] the value
 * (normalised over its domain, log10 when `log`). Vertex i is grid cell (xi, yi) with
 * i = yi * nx + xi.
 */
import { normalizeValue, valueDomain, viridis } from '../../common/plots/colormap';
import type { ValueDomain } from '../../common/plots/colormap';
import type { SurfaceGrid } from './metricShaping';

/** Positions in [-1, 1] for sorted axis values: log2 spaced when all positive, else linear. */
export function axisPositions(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const useLog = values.every((v) => v > 0);
  const t = values.map((v) => (useLog ? Math.log2(v) : v));
  const lo = Math.min(...t);
  const hi = Math.max(...t);
  if (hi === lo) return values.map(() => 0);
  return t.map((v) => -1 + (2 * (v - lo)) / (hi - lo));
}

export interface SurfaceMesh {
  readonly nx: number;
  readonly ny: number;
  /** xyz per vertex. */
  readonly positions: Float32Array;
  /** rgb (0..1) per vertex; missing vertices are grey. */
  readonly colors: Float32Array;
  /** Triangles (vertex indices), only where all three vertices have a value. */
  readonly indices: readonly number[];
  /** Pairs of vertex indices: grid lines between neighbouring present vertices. */
  readonly edges: readonly number[];
  readonly present: readonly boolean[];
  /** Colour/height domain, null when the grid has no usable value. */
  readonly domain: ValueDomain | null;
  readonly xPositions: readonly number[];
  readonly zPositions: readonly number[];
  readonly height: number;
}

const MISSING_RGB = [0.8, 0.81, 0.84] as const;

export function buildSurfaceMesh(grid: SurfaceGrid, opts: { log: boolean; height?: number }): SurfaceMesh {
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  const height = opts.height ?? 1;
  const valueAt = (xi: number, yi: number): number | null => {
    const v = grid.values[yi]?.[xi];
    return v === undefined || v === null || !Number.isFinite(v) ? null : v;
  };
  const flat: (number | null)[] = [];
  for (let yi = 0; yi < ny; yi++) for (let xi = 0; xi < nx; xi++) flat.push(valueAt(xi, yi));
  const domain = valueDomain(flat, opts.log);
  const xPositions = axisPositions(grid.xs);
  const zPositions = axisPositions(grid.ys);

  const positions = new Float32Array(nx * ny * 3);
  const colors = new Float32Array(nx * ny * 3);
  const present = flat.map((v) => v !== null && domain !== null);
  for (let yi = 0; yi < ny; yi++) {
    for (let xi = 0; xi < nx; xi++) {
      const i = yi * nx + xi;
      const v = flat[i] ?? null;
      const t = v !== null && domain ? normalizeValue(v, domain) : 0;
      positions[3 * i] = xPositions[xi] ?? 0;
      positions[3 * i + 1] = t * height;
      positions[3 * i + 2] = zPositions[yi] ?? 0;
      const rgb = present[i] ? viridis(t) : MISSING_RGB;
      colors[3 * i] = rgb[0];
      colors[3 * i + 1] = rgb[1];
      colors[3 * i + 2] = rgb[2];
    }
  }

  const indices: number[] = [];
  const edges: number[] = [];
  const ok = (i: number): boolean => present[i] === true;
  for (let yi = 0; yi < ny; yi++) {
    for (let xi = 0; xi < nx; xi++) {
      const a = yi * nx + xi;
      if (xi + 1 < nx && ok(a) && ok(a + 1)) edges.push(a, a + 1);
      if (yi + 1 < ny && ok(a) && ok(a + nx)) edges.push(a, a + nx);
      if (xi + 1 >= nx || yi + 1 >= ny) continue;
      const b = a + 1;
      const c = a + nx;
      const d = c + 1;
      // Two triangles per cell (a b d, a d c); a triangle is drawn only with all corners present,
      // and the cell falls back to the other diagonal when that keeps more of it.
      if (ok(a) && ok(b) && ok(c) && ok(d)) {
        indices.push(a, b, d, a, d, c);
      } else if (ok(a) && ok(b) && ok(d)) {
        indices.push(a, b, d);
      } else if (ok(a) && ok(d) && ok(c)) {
        indices.push(a, d, c);
      } else if (ok(a) && ok(b) && ok(c)) {
        indices.push(a, b, c);
      } else if (ok(b) && ok(d) && ok(c)) {
        indices.push(b, d, c);
      }
    }
  }
  return { nx, ny, positions, colors, indices, edges, present, domain, xPositions, zPositions, height };
}

/** Of the candidate vertices, the one nearest to point p (squared Euclidean distance). */
export function nearestVertex(positions: ArrayLike<number>, candidates: readonly number[], p: { x: number; y: number; z: number }): number | null {
  let best: number | null = null;
  let bestD = Infinity;
  for (const i of candidates) {
    const dx = (positions[3 * i] ?? 0) - p.x;
    const dy = (positions[3 * i + 1] ?? 0) - p.y;
    const dz = (positions[3 * i + 2] ?? 0) - p.z;
    const d = dx * dx + dy * dy + dz * dz;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Grid cell of a vertex index. */
export function vertexCell(mesh: Pick<SurfaceMesh, 'nx'>, vertex: number): { xi: number; yi: number } {
  return { xi: vertex % mesh.nx, yi: Math.floor(vertex / mesh.nx) };
}
