/**
 * The three.js 3D surface: (sequence length, parameter) -> metric, with orbit controls, axes
 * with tick labels (canvas-texture sprites), a colour bar, a hover read-out snapped to the
 * nearest grid vertex, and PNG export. Geometry comes from the pure `buildSurfaceMesh`.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { viridisHex } from '../../../main/core/plots/colormap';
import type { ValueDomain } from '../../../main/core/plots/colormap';
import { colorBarTicks } from '../../../main/core/plots/heatmapSvg';
import { formatTick, formatValue } from '../../../main/core/plots/ticks';
import type { SurfaceGrid } from './metricShaping';
import { buildSurfaceMesh, nearestVertex, vertexCell } from './surfaceMesh';
import type { SurfaceMesh } from './surfaceMesh';

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

export class WebGLUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`WebGL is not available in this window, so the 3D surface cannot be drawn (${cause instanceof Error ? cause.message : String(cause)}).`);
    this.name = 'WebGLUnavailableError';
  }
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const BACKGROUND = '#ffffff';
const GRID_COLOR = '#e3e7ec';
const AXIS_COLOR = '#7b8794';
const LABEL_COLOR = '#3e4c59';
const COLORBAR_WIDTH = 104;

/** Keeps about `max` evenly spread items, always including the first and the last. */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(items[Math.round((k * (items.length - 1)) / (max - 1))] as T);
  return [...new Set(out)];
}

function textSprite(text: string, worldHeight: number, color = LABEL_COLOR, weight = 400): THREE.Sprite {
  const fontPx = 44;
  const pad = 8;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  const font = `${weight} ${fontPx}px ${FONT}`;
  let w = 2 * pad + text.length * fontPx * 0.6;
  if (ctx) {
    ctx.font = font;
    w = Math.ceil(ctx.measureText(text).width) + 2 * pad;
  }
  const hgt = fontPx + 2 * pad;
  canvas.width = w;
  canvas.height = hgt;
  if (ctx) {
    ctx.font = font;
    ctx.fillStyle = color;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(text, w / 2, hgt / 2 + 2);
  }
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  texture.minFilter = THREE.LinearFilter;
  texture.generateMipmaps = false;
  const material = new THREE.SpriteMaterial({ map: texture, transparent: true, depthWrite: false });
  const sprite = new THREE.Sprite(material);
  sprite.scale.set((worldHeight * w) / hgt, worldHeight, 1);
  return sprite;
}

function lineSegments(points: readonly number[], color: string, opacity = 1): THREE.LineSegments {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(points, 3));
  const material = new THREE.LineBasicMaterial({ color, transparent: opacity < 1, opacity });
  return new THREE.LineSegments(geometry, material);
}

function disposeTree(root: THREE.Object3D): void {
  root.traverse((obj) => {
    const o = obj as THREE.Object3D & { geometry?: THREE.BufferGeometry; material?: THREE.Material | THREE.Material[] };
    o.geometry?.dispose();
    const materials = Array.isArray(o.material) ? o.material : o.material ? [o.material] : [];
    for (const m of materials) {
      const map = (m as THREE.Material & { map?: THREE.Texture | null }).map;
      map?.dispose();
      m.dispose();
    }
  });
}

export class SurfacePlot {
  readonly canvas: HTMLCanvasElement;
  readonly colorBar: HTMLCanvasElement;
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(38, 1, 0.05, 100);
  private readonly controls: OrbitControls;
  private readonly raycaster = new THREE.Raycaster();
  private readonly marker: THREE.Mesh;
  private readonly observer: ResizeObserver;
  private content: THREE.Group | null = null;
  private surface: THREE.Mesh | null = null;
  private dots: THREE.InstancedMesh | null = null;
  private dotVertices: number[] = [];
  private mesh: SurfaceMesh | null = null;
  private data: SurfaceData | null = null;
  private frame = 0;
  private disposed = false;

  /** Builds the plot inside `host`; throws WebGLUnavailableError when no WebGL context can be made. */
  constructor(
    host: HTMLElement,
    private readonly onReadout: (text: string | null) => void,
    private readonly onContextLost: () => void,
  ) {
    const stage = document.createElement('div');
    stage.className = 'surface-stage';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'surface-canvas';
    this.canvas.setAttribute('data-testid', 'surface-canvas');
    this.canvas.setAttribute('aria-label', '3D surface plot; drag to rotate, scroll to zoom');
    stage.appendChild(this.canvas);
    this.colorBar = document.createElement('canvas');
    this.colorBar.className = 'surface-colorbar';
    this.colorBar.setAttribute('data-testid', 'surface-colorbar');
    // three.js needs WebGL 2; asking first gives a clear message without three's console noise.
    const attributes: WebGLContextAttributes = { antialias: true, preserveDrawingBuffer: true, alpha: false };
    let context: WebGL2RenderingContext | null = null;
    try {
      context = this.canvas.getContext('webgl2', attributes);
    } catch (e) {
      throw new WebGLUnavailableError(e);
    }
    if (!context) throw new WebGLUnavailableError('the browser could not create a WebGL 2 context');
    try {
      this.renderer = new THREE.WebGLRenderer({ canvas: this.canvas, context, antialias: true, preserveDrawingBuffer: true });
    } catch (e) {
      throw new WebGLUnavailableError(e);
    }
    host.append(stage, this.colorBar);
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.scene.background = new THREE.Color(BACKGROUND);
    this.camera.position.set(2.3, 1.55, 2.95);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.target.set(-0.15, 0.12, 0.4);
    this.controls.minDistance = 1.2;
    this.controls.maxDistance = 12;
    this.controls.update();
    this.controls.addEventListener('change', this.requestRender);

    this.marker = new THREE.Mesh(new THREE.SphereGeometry(0.038, 20, 12), new THREE.MeshBasicMaterial({ color: '#e0702b', depthTest: false }));
    this.marker.renderOrder = 10;
    this.marker.visible = false;
    this.scene.add(this.marker);

    this.canvas.addEventListener('pointermove', this.onPointerMove);
    this.canvas.addEventListener('pointerleave', this.onPointerLeave);
    this.canvas.addEventListener('webglcontextlost', this.handleContextLost);
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(stage);
    this.resize();
  }

  setData(data: SurfaceData): void {
    this.data = data;
    if (this.content) {
      this.scene.remove(this.content);
      disposeTree(this.content);
    }
    this.mesh = buildSurfaceMesh(data.grid, { log: data.log });
    this.content = this.buildContent(this.mesh, data);
    this.scene.add(this.content);
    this.marker.visible = false;
    this.onReadout(null);
    this.drawColorBar();
    this.requestRender();
  }

  /** The current view with its colour bar (and an optional title) as a PNG. */
  toPngBlob(title?: string): Promise<Blob> {
    this.renderNow();
    const titleH = title ? 44 : 0;
    const out = document.createElement('canvas');
    out.width = this.canvas.width + this.colorBar.width;
    out.height = Math.max(this.canvas.height, this.colorBar.height) + titleH;
    const ctx = out.getContext('2d');
    if (!ctx) return Promise.reject(new Error('could not create a 2D canvas for the PNG'));
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, out.width, out.height);
    if (title) {
      ctx.fillStyle = '#1f2933';
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
    if (this.disposed) return;
    this.disposed = true;
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
    this.controls.removeEventListener('change', this.requestRender);
    this.controls.dispose();
    this.canvas.removeEventListener('pointermove', this.onPointerMove);
    this.canvas.removeEventListener('pointerleave', this.onPointerLeave);
    this.canvas.removeEventListener('webglcontextlost', this.handleContextLost);
    disposeTree(this.scene);
    this.renderer.dispose();
    this.renderer.forceContextLoss();
  }

  private buildContent(mesh: SurfaceMesh, data: SurfaceData): THREE.Group {
    const group = new THREE.Group();
    const H = mesh.height;
    const tickH = 0.075;
    const titleH = 0.085;

    // Floor and back-wall grid, axis lines.
    const xTicks = spread(
      data.grid.xs.map((v, i) => ({ v, p: mesh.xPositions[i] ?? 0 })),
      8,
    );
    const zTicks = spread(
      data.grid.ys.map((v, i) => ({ v, p: mesh.zPositions[i] ?? 0 })),
      8,
    );
    const valueTicks = mesh.domain ? colorBarTicks(mesh.domain, 6) : [];
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

    // Tick labels and axis titles.
    const tickMarks: number[] = [];
    for (const { v, p } of xTicks) {
      const s = textSprite(formatTick(v), tickH);
      s.position.set(p, -0.02, 1.14);
      group.add(s);
      tickMarks.push(p, 0, 1, p, 0, 1.05);
    }
    for (const { v, p } of zTicks) {
      const s = textSprite(formatTick(v), tickH);
      s.position.set(1.16, -0.02, p);
      group.add(s);
      tickMarks.push(1, 0, p, 1.05, 0, p);
    }
    for (const { t, label } of valueTicks) {
      const s = textSprite(label, tickH);
      s.center.set(1, 0.5);
      s.position.set(-1.07, t * H, 1.04);
      group.add(s);
      tickMarks.push(-1, t * H, 1, -1.05, t * H, 1);
    }
    group.add(lineSegments(tickMarks, AXIS_COLOR));
    const xTitle = textSprite(data.xLabel, titleH, '#1f2933', 600);
    xTitle.position.set(0, -0.1, 1.36);
    const zTitle = textSprite(data.yLabel, titleH, '#1f2933', 600);
    zTitle.position.set(1.42, -0.1, 0);
    const vTitle = textSprite(data.metricLabel + (data.log ? ' (log)' : ''), titleH, '#1f2933', 600);
    vTitle.position.set(-1, H + 0.14, 1);
    group.add(xTitle, zTitle, vTitle);

    // The surface: vertex colours are sRGB, three's working space is linear.
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
    const surface = new THREE.Mesh(
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
    group.add(surface);
    this.surface = surface;

    const wire = new THREE.BufferGeometry();
    wire.setAttribute('position', new THREE.BufferAttribute(mesh.positions, 3));
    wire.setIndex([...mesh.edges]);
    group.add(new THREE.LineSegments(wire, new THREE.LineBasicMaterial({ color: '#1f2933', transparent: true, opacity: 0.45 })));

    // A dot at every measured grid point (also the only thing drawn for a one-row grid).
    this.dotVertices = mesh.present.flatMap((p, i) => (p ? [i] : []));
    const dots = new THREE.InstancedMesh(
      new THREE.SphereGeometry(0.018, 12, 8),
      new THREE.MeshBasicMaterial({ color: '#1f2933' }),
      Math.max(1, this.dotVertices.length),
    );
    dots.count = this.dotVertices.length;
    const m = new THREE.Matrix4();
    this.dotVertices.forEach((v, k) => {
      m.makeTranslation(mesh.positions[3 * v] ?? 0, mesh.positions[3 * v + 1] ?? 0, mesh.positions[3 * v + 2] ?? 0);
      dots.setMatrixAt(k, m);
    });
    dots.instanceMatrix.needsUpdate = true;
    dots.computeBoundingSphere();
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
      ctx.fillStyle = '#1f2933';
      ctx.fillText(this.data.metricLabel + (this.data.log ? ' (log)' : ''), 0, 0);
      ctx.restore();
    }
  }

  private resize(): void {
    if (this.disposed) return;
    const stage = this.canvas.parentElement;
    const w = Math.max(1, stage?.clientWidth ?? 600);
    const h = Math.max(1, stage?.clientHeight ?? 420);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.drawColorBar();
    this.renderNow();
  }

  private readonly requestRender = (): void => {
    if (this.disposed || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderNow();
    });
  };

  private renderNow(): void {
    if (this.disposed) return;
    this.renderer.render(this.scene, this.camera);
  }

  private readonly onPointerMove = (ev: PointerEvent): void => {
    if (!this.mesh || !this.data || ev.buttons !== 0) return;
    const rect = this.canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((ev.clientX - rect.left) / rect.width) * 2 - 1, -((ev.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    const targets = [this.dots, this.surface].filter((o): o is THREE.Mesh | THREE.InstancedMesh => o !== null);
    const hit = this.raycaster.intersectObjects(targets, false)[0];
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
      if (this.marker.visible) {
        this.marker.visible = false;
        this.requestRender();
      }
      this.onReadout(null);
      return;
    }
    const { xi, yi } = vertexCell(mesh, vertex);
    const value = data.grid.values[yi]?.[xi] ?? null;
    this.marker.position.set(mesh.positions[3 * vertex] ?? 0, mesh.positions[3 * vertex + 1] ?? 0, mesh.positions[3 * vertex + 2] ?? 0);
    this.marker.visible = true;
    this.requestRender();
    this.onReadout(
      `${data.xName}=${data.grid.xs[xi]}, ${data.yName}=${data.grid.ys[yi]}, ${data.metricName}=${value === null ? 'missing' : formatValue(value)}`,
    );
  }

  private readonly handleContextLost = (ev: Event): void => {
    ev.preventDefault();
    this.onContextLost();
  };
}
