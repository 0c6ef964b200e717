/**
 * The three.js 3D surface: (sequence length, parameter) -> metric, with orbit controls, axes
 * with tick labels (canvas-texture sprites), a colour bar, a hover read-out snapped to the
 * nearest grid vertex, and PNG export. Geometry comes from the pure `buildSurfaceMesh`.
 */
import * as THREE from 'three';
import { viridisHex } from '../../common/plots/colormap';
import type { ValueDomain } from '../../common/plots/colormap';
import { colorBarTicks } from '../../common/plots/heatmapSvg';
import { formatTick, formatValue } from '../../common/plots/ticks';
import type { SurfaceGrid } from './metricShaping';
import { buildSurfaceMesh, nearestVertex, vertexCell } from './surfaceMesh';
import type { SurfaceMesh } from './surfaceMesh';
import { AXIS_COLOR, BACKGROUND, FONT, GRID_COLOR, LABEL_COLOR, lineSegments, textSprite, ThreeStage, TITLE_COLOR } from './threeStage';

export { WebGLUnavailableError } from './threeStage';

export interface SurfaceData {
  readonly grid: SurfaceGrid;
  readonly log: boolean;
  /** Name used in the read-out, e.g. rel_err_max. */
  readonly metricName: string;
  /** Axis and colour-bar title, e.g. "max relative error". */
  readonly metricLabel: string;
  /** Short names of the grid axes for the read-out ("n", "w") and their titles. */
  readonly xName: string;
  readonly yName: string;
  readonly xLabel: string;
  readonly yLabel: string;
}

const COLORBAR_WIDTH = 104;

/** Keeps about `max` evenly spread items, always including the first and the last. */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(items[Math.round((k * (items.length - 1)) / (max - 1))] as T);
  return [...new Set(out)];
}

export class SurfacePlot {
  readonly canvas: HTMLCanvasElement;
  readonly colorBar: HTMLCanvasElement;
  private readonly stage: ThreeStage;
  private surface: THREE.Mesh | null = null;
  private dots: THREE.InstancedMesh | null = null;
  private dotVertices: number[] = [];
  private mesh: SurfaceMesh | null = null;
  private data: SurfaceData | null = null;

  /** Builds the plot inside `host`; throws WebGLUnavailableError when no WebGL context can be made. */
  constructor(
    host: HTMLElement,
    private readonly onReadout: (text: string | null) => void,
    onContextLost: () => void,
  ) {
    this.colorBar = document.createElement('canvas');
    this.colorBar.className = 'surface-colorbar';
    this.colorBar.setAttribute('data-testid', 'surface-colorbar');
    this.stage = new ThreeStage(host, {
      testId: 'surface-canvas',
      ariaLabel: '3D surface plot; drag to rotate, scroll to zoom',
      cameraPosition: [2.3, 1.55, 2.95],
      target: [-0.15, 0.12, 0.4],
      markerRadius: 0.038,
      markerMaterial: { color: '#e0702b', depthTest: false },
      after: [this.colorBar],
      onResize: () => this.drawColorBar(),
      onPointerMove: this.onPointerMove,
      onPointerLeave: this.onPointerLeave,
      onContextLost,
    });
    this.canvas = this.stage.canvas;
    this.stage.resize();
  }

  setData(data: SurfaceData): void {
    this.data = data;
    this.mesh = buildSurfaceMesh(data.grid, { log: data.log });
    this.stage.setContent(this.buildContent(this.mesh, data));
    this.onReadout(null);
    this.drawColorBar();
    this.stage.requestRender();
  }

  /** The current view with its colour bar (and an optional title) as a PNG. */
  toPngBlob(title?: string): Promise<Blob> {
    this.stage.renderNow();
    const titleH = title ? 44 : 0;
    const out = document.createElement('canvas');
    out.width = this.canvas.width + this.colorBar.width;
    out.height = Math.max(this.canvas.height, this.colorBar.height) + titleH;
    const ctx = out.getContext('2d');
    if (!ctx) return Promise.reject(new Error('could not create a 2D canvas for the PNG'));
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, out.width, out.height);
    if (title) {
      ctx.fillStyle = TITLE_COLOR;
      ctx.font = `600 22px ${FONT}`;
      ctx.textBaseline = 'middle';
      ctx.fillText(title, 16, titleH / 2 + 4);
    }
    ctx.drawImage(this.canvas, 0, titleH);
    ctx.drawImage(this.colorBar, this.canvas.width, titleH);
    return new Promise((resolve, reject) => {
      out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png');
    });
  }

  dispose(): void {
    this.stage.dispose();
  }

  private buildContent(mesh: SurfaceMesh, data: SurfaceData): THREE.Group {
    const group = new THREE.Group();
    addAxes(group, mesh, data);
    const surface = surfaceObject(mesh);
    group.add(surface, wireframe(mesh));
    this.surface = surface;
    // A dot at every measured grid point (also the only thing drawn for a one-row grid).
    this.dotVertices = mesh.present.flatMap((p, i) => (p ? [i] : []));
    const dots = gridDots(mesh, this.dotVertices);
    group.add(dots);
    this.dots = dots;
    return group;
  }

  private drawColorBar(): void {
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const cssH = this.canvas.clientHeight || 420;
    this.colorBar.width = Math.round(COLORBAR_WIDTH * dpr);
    this.colorBar.height = Math.round(cssH * dpr);
    const ctx = this.colorBar.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, COLORBAR_WIDTH, cssH);
    const domain: ValueDomain | null = this.mesh?.domain ?? null;
    const top = 36;
    const bottom = cssH - 36;
    const x = 12;
    const w = 16;
    ctx.font = `12px ${FONT}`;
    if (!domain || bottom <= top) {
      ctx.fillStyle = '#7b8794';
      ctx.fillText('no data', x, top + 12);
      return;
    }
    const steps = 128;
    for (let i = 0; i < steps; i++) {
      const y0 = bottom - ((i + 1) / steps) * (bottom - top);
      ctx.fillStyle = viridisHex((i + 0.5) / steps);
      ctx.fillRect(x, y0, w, (bottom - top) / steps + 0.75);
    }
    ctx.strokeStyle = '#9aa5b1';
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, top + 0.5, w - 1, bottom - top - 1);
    ctx.fillStyle = LABEL_COLOR;
    ctx.textBaseline = 'middle';
    for (const tick of colorBarTicks(domain, 7)) {
      const y = bottom - tick.t * (bottom - top);
      ctx.beginPath();
      ctx.moveTo(x + w, y);
      ctx.lineTo(x + w + 4, y);
      ctx.stroke();
      ctx.fillText(tick.label, x + w + 7, y);
    }
    if (this.data) {
      ctx.save();
      ctx.translate(COLORBAR_WIDTH - 12, (top + bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'center';
      ctx.fillStyle = TITLE_COLOR;
      ctx.fillText(this.data.metricLabel + (this.data.log ? ' (log)' : ''), 0, 0);
      ctx.restore();
    }
  }

  private readonly onPointerMove = (ev: PointerEvent): void => {
    if (!this.mesh || !this.data || ev.buttons !== 0) return;
    const targets = [this.dots, this.surface].filter((o): o is THREE.Mesh | THREE.InstancedMesh => o !== null);
    const hit = this.stage.pick(ev, targets);
    let vertex: number | null = null;
    if (hit && hit.object === this.dots && hit.instanceId !== undefined) {
      vertex = this.dotVertices[hit.instanceId] ?? null;
    } else if (hit && hit.face) {
      vertex = nearestVertex(this.mesh.positions, [hit.face.a, hit.face.b, hit.face.c], hit.point);
    }
    this.showVertex(vertex);
  };

  private readonly onPointerLeave = (): void => this.showVertex(null);

  private showVertex(vertex: number | null): void {
    const mesh = this.mesh;
    const data = this.data;
    if (vertex === null || !mesh || !data) {
      this.stage.hideMarker();
      this.onReadout(null);
      return;
    }
    const { xi, yi } = vertexCell(mesh, vertex);
    const value = data.grid.values[yi]?.[xi] ?? null;
    this.stage.showMarker(mesh.positions[3 * vertex] ?? 0, mesh.positions[3 * vertex + 1] ?? 0, mesh.positions[3 * vertex + 2] ?? 0);
    this.onReadout(
      `${data.xName}=${data.grid.xs[xi]}, ${data.yName}=${data.grid.ys[yi]}, ${data.metricName}=${value === null ? 'missing' : formatValue(value)}`,
    );
  }
}

const TICK_HEIGHT = 0.075;
const TITLE_HEIGHT = 0.085;

type Tick = { v: number; p: number };

/** Floor and back-wall grid lines at the ticks, and the three axis lines. */
function addGrid(group: THREE.Group, H: number, xTicks: readonly Tick[], zTicks: readonly Tick[], valueTicks: readonly { t: number }[]): void {
  const grid: number[] = [];
  for (const { p } of xTicks) grid.push(p, 0, -1, p, 0, 1, p, 0, -1, p, H, -1);
  for (const { p } of zTicks) grid.push(-1, 0, p, 1, 0, p, -1, 0, p, -1, H, p);
  for (const { t } of valueTicks) grid.push(-1, t * H, -1, 1, t * H, -1, -1, t * H, -1, -1, t * H, 1);
  group.add(lineSegments(grid, GRID_COLOR));
  group.add(
    lineSegments(
      [-1, 0, 1, 1, 0, 1, /* x axis */ 1, 0, -1, 1, 0, 1, /* parameter axis */ -1, 0, 1, -1, H, 1 /* value axis */],
      AXIS_COLOR,
    ),
  );
}

/** Tick labels with their marks on the three axes. */
function addTickLabels(group: THREE.Group, H: number, xTicks: readonly Tick[], zTicks: readonly Tick[], valueTicks: readonly { t: number; label: string }[]): void {
  const tickMarks: number[] = [];
  for (const { v, p } of xTicks) {
    const s = textSprite(formatTick(v), TICK_HEIGHT);
    s.position.set(p, -0.02, 1.14);
    group.add(s);
    tickMarks.push(p, 0, 1, p, 0, 1.05);
  }
  for (const { v, p } of zTicks) {
    const s = textSprite(formatTick(v), TICK_HEIGHT);
    s.position.set(1.16, -0.02, p);
    group.add(s);
    tickMarks.push(1, 0, p, 1.05, 0, p);
  }
  for (const { t, label } of valueTicks) {
    const s = textSprite(label, TICK_HEIGHT);
    s.center.set(1, 0.5);
    s.position.set(-1.07, t * H, 1.04);
    group.add(s);
    tickMarks.push(-1, t * H, 1, -1.05, t * H, 1);
  }
  group.add(lineSegments(tickMarks, AXIS_COLOR));
}

/** Grid, axes, tick labels and axis titles. */
function addAxes(group: THREE.Group, mesh: SurfaceMesh, data: SurfaceData): void {
  const H = mesh.height;
  const xTicks = spread(
    data.grid.xs.map((v, i) => ({ v, p: mesh.xPositions[i] ?? 0 })),
    8,
  );
  const zTicks = spread(
    data.grid.ys.map((v, i) => ({ v, p: mesh.zPositions[i] ?? 0 })),
    8,
  );
  const valueTicks = mesh.domain ? colorBarTicks(mesh.domain, 6) : [];
  addGrid(group, H, xTicks, zTicks, valueTicks);
  addTickLabels(group, H, xTicks, zTicks, valueTicks);
  const xTitle = textSprite(data.xLabel, TITLE_HEIGHT, TITLE_COLOR, 600);
  xTitle.position.set(0, -0.1, 1.36);
  const zTitle = textSprite(data.yLabel, TITLE_HEIGHT, TITLE_COLOR, 600);
  zTitle.position.set(1.42, -0.1, 0);
  const vTitle = textSprite(data.metricLabel + (data.log ? ' (log)' : ''), TITLE_HEIGHT, TITLE_COLOR, 600);
  vTitle.position.set(-1, H + 0.14, 1);
  group.add(xTitle, zTitle, vTitle);
}

/** The surface: vertex colours are sRGB, three's working space is linear. */
function surfaceObject(mesh: SurfaceMesh): THREE.Mesh {
  const linear = new Float32Array(mesh.colors.length);
  const c = new THREE.Color();
  for (let i = 0; i < mesh.colors.length; i += 3) {
    c.setRGB(mesh.colors[i] ?? 0, mesh.colors[i + 1] ?? 0, mesh.colors[i + 2] ?? 0, THREE.SRGBColorSpace);
    linear[i] = c.r;
    linear[i + 1] = c.g;
    linear[i + 2] = c.b;
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(mesh.positions, 3));
  geometry.setAttribute('color', new THREE.BufferAttribute(linear, 3));
  geometry.setIndex([...mesh.indices]);
  return new THREE.Mesh(
    geometry,
    new THREE.MeshBasicMaterial({
      vertexColors: true,
      side: THREE.DoubleSide,
      transparent: true,
      opacity: 0.94,
      polygonOffset: true,
      polygonOffsetFactor: 1,
      polygonOffsetUnits: 1,
    }),
  );
}

function wireframe(mesh: SurfaceMesh): THREE.LineSegments {
  const wire = new THREE.BufferGeometry();
  wire.setAttribute('position', new THREE.BufferAttribute(mesh.positions, 3));
  wire.setIndex([...mesh.edges]);
  return new THREE.LineSegments(wire, new THREE.LineBasicMaterial({ color: '#1f2933', transparent: true, opacity: 0.45 }));
}

/** One small sphere at each of `vertices`. */
function gridDots(mesh: SurfaceMesh, vertices: readonly number[]): THREE.InstancedMesh {
  const dots = new THREE.InstancedMesh(new THREE.SphereGeometry(0.018, 12, 8), new THREE.MeshBasicMaterial({ color: '#1f2933' }), Math.max(1, vertices.length));
  dots.count = vertices.length;
  const m = new THREE.Matrix4();
  vertices.forEach((v, k) => {
    m.makeTranslation(mesh.positions[3 * v] ?? 0, mesh.positions[3 * v + 1] ?? 0, mesh.positions[3 * v + 2] ?? 0);
    dots.setMatrixAt(k, m);
  });
  dots.instanceMatrix.needsUpdate = true;
  dots.computeBoundingSphere();
  return dots;
}
