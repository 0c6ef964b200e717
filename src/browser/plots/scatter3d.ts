/**
 * A three.js 3D scatter of token points: x = attention weight, y (up) = importance by an
 * erasure method, z = layer; one instanced sphere per point coloured by layer, orbit controls,
 * axes with tick labels, and a hover read-out naming the token. Positions come from the pure
 * `scatterLayout` (faithShaping.ts). Throws WebGLUnavailableError when no WebGL 2 context can
 * be made (the caller shows a 2D fallback).
 */
import * as THREE from 'three';
import { viridis } from '../../common/plots/colormap';
import { formatTick, formatValue, linearTicks } from '../../common/plots/ticks';
import { scatterLayout } from './faithShaping';
import type { ScatterLayout, ScatterPoint } from './faithShaping';
import { AXIS_COLOR, GRID_COLOR, lineSegments, textSprite, ThreeStage, TITLE_COLOR } from './threeStage';

export interface Scatter3dData {
  readonly points: readonly ScatterPoint[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** Short name of the importance method for the read-out (e.g. loo). */
  readonly yName: string;
}

/** The colour of layer index i of `count` layers (viridis, sRGB). */
export function layerColor(i: number, count: number): readonly [number, number, number] {
  return viridis(count <= 1 ? 0.5 : 0.1 + (0.8 * i) / (count - 1));
}

export class Scatter3dPlot {
  readonly canvas: HTMLCanvasElement;
  private readonly stage: ThreeStage;
  private dots: THREE.InstancedMesh | null = null;
  private data: Scatter3dData | null = null;
  private layout: ScatterLayout | null = null;

  constructor(
    host: HTMLElement,
    private readonly onReadout: (text: string | null) => void,
    onContextLost: () => void,
  ) {
    this.stage = new ThreeStage(host, {
      testId: 'faith-scatter',
      ariaLabel: '3D scatter of tokens: attention weight, importance and layer; drag to rotate, scroll to zoom',
      cameraPosition: [2.4, 1.7, 2.9],
      target: [0, 0.45, 0],
      markerRadius: 0.045,
      markerMaterial: { color: '#e0702b', depthTest: false, transparent: true, opacity: 0.9 },
      onPointerMove: this.onPointerMove,
      onPointerLeave: this.onPointerLeave,
      onContextLost,
    });
    this.canvas = this.stage.canvas;
    this.stage.resize();
  }

  setData(data: Scatter3dData): void {
    this.data = data;
    this.layout = scatterLayout(data.points);
    this.stage.setContent(this.build(this.layout, data));
    this.onReadout(null);
    this.stage.requestRender();
  }

  dispose(): void {
    this.stage.dispose();
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
    const xTitle = textSprite(data.xLabel, titleH, TITLE_COLOR, 600);
    xTitle.position.set(0, -0.1, 1.35);
    const zTitle = textSprite('layer', titleH, TITLE_COLOR, 600);
    zTitle.position.set(1.36, -0.1, 0);
    const yTitle = textSprite(data.yLabel, titleH, TITLE_COLOR, 600);
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

  private readonly onPointerMove = (ev: PointerEvent): void => {
    if (!this.dots || !this.data || ev.buttons !== 0) return;
    const hit = this.stage.pick(ev, [this.dots]);
    this.show(hit?.instanceId ?? null);
  };

  private readonly onPointerLeave = (): void => this.show(null);

  /** Shows the read-out of point i (null hides it). Public for tests and keyboard use. */
  show(i: number | null): void {
    const data = this.data;
    const layout = this.layout;
    const p = i === null ? undefined : data?.points[i];
    if (i === null || !p || !data || !layout) {
      this.stage.hideMarker();
      this.onReadout(null);
      return;
    }
    this.stage.showMarker(layout.positions[3 * i] ?? 0, layout.positions[3 * i + 1] ?? 0, layout.positions[3 * i + 2] ?? 0);
    this.onReadout(`token "${p.token}" (example ${p.example}, position ${p.position}) · layer ${p.layer} · attention=${formatValue(p.x, 4)} · ${data.yName}=${formatValue(p.y, 4)}`);
  }
}
