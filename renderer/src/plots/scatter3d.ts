/**
 * A three.js 3D scatter of token points: x = attention weight, y (up) = importance by an
 * erasure method, z = layer; one instanced sphere per point coloured by layer, orbit controls,
 * axes with tick labels, and a hover read-out naming the token. Positions come from the pure
 * `scatterLayout` (faithShaping.ts). Throws WebGLUnavailableError when no WebGL 2 context can
 * be made (the caller shows a 2D fallback).
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { viridis } from '../../../main/core/plots/colormap';
import { formatTick, formatValue, linearTicks } from '../../../main/core/plots/ticks';
import { scatterLayout } from './faithShaping';
import type { ScatterLayout, ScatterPoint } from './faithShaping';
import { WebGLUnavailableError } from './surfacePlot';

export interface Scatter3dData {
  readonly points: readonly ScatterPoint[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** Short name of the importance method for the read-out (e.g. loo). */
  readonly yName: string;
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const BACKGROUND = '#ffffff';
const GRID_COLOR = '#e3e7ec';
const AXIS_COLOR = '#7b8794';
const LABEL_COLOR = '#3e4c59';

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
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, transparent: true, depthWrite: false }));
  sprite.scale.set((worldHeight * w) / hgt, worldHeight, 1);
  return sprite;
}

function lineSegments(points: readonly number[], color: string): THREE.LineSegments {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(points, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color }));
}

function disposeTree(root: THREE.Object3D): void {
  root.traverse((obj) => {
    const o = obj as THREE.Object3D & { geometry?: THREE.BufferGeometry; material?: THREE.Material | THREE.Material[] };
    o.geometry?.dispose();
    const materials = Array.isArray(o.material) ? o.material : o.material ? [o.material] : [];
    for (const m of materials) {
      (m as THREE.Material & { map?: THREE.Texture | null }).map?.dispose();
      m.dispose();
    }
  });
}

/** The colour of layer index i of `count` layers (viridis, sRGB). */
export function layerColor(i: number, count: number): readonly [number, number, number] {
  return viridis(count <= 1 ? 0.5 : 0.1 + (0.8 * i) / (count - 1));
}

export class Scatter3dPlot {
  readonly canvas: HTMLCanvasElement;
  private readonly renderer: THREE.WebGLRenderer;
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(38, 1, 0.05, 100);
  private readonly controls: OrbitControls;
  private readonly raycaster = new THREE.Raycaster();
  private readonly marker: THREE.Mesh;
  private readonly observer: ResizeObserver;
  private content: THREE.Group | null = null;
  private dots: THREE.InstancedMesh | null = null;
  private data: Scatter3dData | null = null;
  private layout: ScatterLayout | null = null;
  private frame = 0;
  private disposed = false;

  constructor(
    host: HTMLElement,
    private readonly onReadout: (text: string | null) => void,
    private readonly onContextLost: () => void,
  ) {
    const stage = document.createElement('div');
    stage.className = 'surface-stage';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'surface-canvas';
    this.canvas.setAttribute('data-testid', 'faith-scatter');
    this.canvas.setAttribute('aria-label', '3D scatter of tokens: attention weight, importance and layer; drag to rotate, scroll to zoom');
    stage.appendChild(this.canvas);
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
    host.append(stage);
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.scene.background = new THREE.Color(BACKGROUND);
    this.camera.position.set(2.4, 1.7, 2.9);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.target.set(0, 0.45, 0);
    this.controls.minDistance = 1.2;
    this.controls.maxDistance = 12;
    this.controls.update();
    this.controls.addEventListener('change', this.requestRender);
    this.marker = new THREE.Mesh(new THREE.SphereGeometry(0.045, 20, 12), new THREE.MeshBasicMaterial({ color: '#e0702b', depthTest: false, transparent: true, opacity: 0.9 }));
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

  setData(data: Scatter3dData): void {
    this.data = data;
    if (this.content) {
      this.scene.remove(this.content);
      disposeTree(this.content);
    }
    this.layout = scatterLayout(data.points);
    this.content = this.build(this.layout, data);
    this.scene.add(this.content);
    this.marker.visible = false;
    this.onReadout(null);
    this.requestRender();
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

  private build(layout: ScatterLayout, data: Scatter3dData): THREE.Group {
    const group = new THREE.Group();
    const H = layout.height;
    const tickH = 0.07;
    const titleH = 0.085;
    const sx = (v: number): number => -1 + (2 * (v - layout.xDomain[0])) / (layout.xDomain[1] - layout.xDomain[0]);
    const sy = (v: number): number => (H * (v - layout.yDomain[0])) / (layout.yDomain[1] - layout.yDomain[0]);
    const lMin = layout.layers[0] ?? 0;
    const lMax = layout.layers[layout.layers.length - 1] ?? 0;
    const sz = (l: number): number => (lMax === lMin ? 0 : -1 + (2 * (l - lMin)) / (lMax - lMin));
    const xTicks = linearTicks(layout.xDomain[0], layout.xDomain[1], 5);
    const yTicks = linearTicks(layout.yDomain[0], layout.yDomain[1], 5);
    const grid: number[] = [];
    for (const t of xTicks) grid.push(sx(t), 0, -1, sx(t), 0, 1, sx(t), 0, -1, sx(t), H, -1);
    for (const l of layout.layers) grid.push(-1, 0, sz(l), 1, 0, sz(l));
    for (const t of yTicks) grid.push(-1, sy(t), -1, 1, sy(t), -1, -1, sy(t), -1, -1, sy(t), 1);
    group.add(lineSegments(grid, GRID_COLOR));
    group.add(lineSegments([-1, 0, 1, 1, 0, 1, 1, 0, -1, 1, 0, 1, -1, 0, 1, -1, H, 1], AXIS_COLOR));
    if (layout.yDomain[0] < 0 && layout.yDomain[1] > 0) {
      const z0 = sy(0);
      group.add(lineSegments([-1, z0, -1, 1, z0, -1, -1, z0, -1, -1, z0, 1], '#9aa5b1'));
    }
    for (const t of xTicks) {
      const s = textSprite(formatTick(t), tickH);
      s.position.set(sx(t), -0.03, 1.13);
      group.add(s);
    }
    const layerEvery = Math.max(1, Math.ceil(layout.layers.length / 12));
    layout.layers.forEach((l, i) => {
      if (i % layerEvery !== 0 && i !== layout.layers.length - 1) return;
      const s = textSprite(String(l), tickH);
      s.position.set(1.12, -0.03, sz(l));
      group.add(s);
    });
    for (const t of yTicks) {
      const s = textSprite(formatTick(t), tickH);
      s.center.set(1, 0.5);
      s.position.set(-1.06, sy(t), 1.04);
      group.add(s);
    }
    const xTitle = textSprite(data.xLabel, titleH, '#1f2933', 600);
    xTitle.position.set(0, -0.1, 1.35);
    const zTitle = textSprite('layer', titleH, '#1f2933', 600);
    zTitle.position.set(1.36, -0.1, 0);
    const yTitle = textSprite(data.yLabel, titleH, '#1f2933', 600);
    yTitle.position.set(-1, H + 0.14, 1);
    group.add(xTitle, zTitle, yTitle);

    const count = data.points.length;
    const dots = new THREE.InstancedMesh(new THREE.SphereGeometry(0.022, 10, 8), new THREE.MeshBasicMaterial({ color: '#ffffff' }), Math.max(1, count));
    dots.count = count;
    const m = new THREE.Matrix4();
    const c = new THREE.Color();
    const layerIndex = new Map(layout.layers.map((l, i) => [l, i]));
    for (let i = 0; i < count; i++) {
      m.makeTranslation(layout.positions[3 * i] ?? 0, layout.positions[3 * i + 1] ?? 0, layout.positions[3 * i + 2] ?? 0);
      dots.setMatrixAt(i, m);
      const [r, g, b] = layerColor(layerIndex.get(data.points[i]?.layer ?? 0) ?? 0, layout.layers.length);
      c.setRGB(r, g, b, THREE.SRGBColorSpace);
      dots.setColorAt(i, c);
    }
    dots.instanceMatrix.needsUpdate = true;
    if (dots.instanceColor) dots.instanceColor.needsUpdate = true;
    dots.computeBoundingSphere();
    group.add(dots);
    this.dots = dots;
    return group;
  }

  private resize(): void {
    if (this.disposed) return;
    const stage = this.canvas.parentElement;
    const w = Math.max(1, stage?.clientWidth ?? 600);
    const h = Math.max(1, stage?.clientHeight ?? 420);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
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
    if (!this.dots || !this.data || ev.buttons !== 0) return;
    const rect = this.canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((ev.clientX - rect.left) / rect.width) * 2 - 1, -((ev.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    const hit = this.raycaster.intersectObject(this.dots, false)[0];
    this.show(hit?.instanceId ?? null);
  };

  private readonly onPointerLeave = (): void => this.show(null);

  /** Shows the read-out of point i (null hides it). Public for tests and keyboard use. */
  show(i: number | null): void {
    const data = this.data;
    const layout = this.layout;
    const p = i === null ? undefined : data?.points[i];
    if (i === null || !p || !data || !layout) {
      if (this.marker.visible) {
        this.marker.visible = false;
        this.requestRender();
      }
      this.onReadout(null);
      return;
    }
    this.marker.position.set(layout.positions[3 * i] ?? 0, layout.positions[3 * i + 1] ?? 0, layout.positions[3 * i + 2] ?? 0);
    this.marker.visible = true;
    this.requestRender();
    this.onReadout(`token "${p.token}" (example ${p.example}, position ${p.position}) · layer ${p.layer} · attention=${formatValue(p.x, 4)} · ${data.yName}=${formatValue(p.y, 4)}`);
  }

  private readonly handleContextLost = (ev: Event): void => {
    ev.preventDefault();
    this.onContextLost();
  };
}
