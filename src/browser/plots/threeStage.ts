/**
 * What the three.js plots (the 3D surface and the faithfulness 3D scatter) share: the palette,
 * canvas-texture text sprites, line segments, disposal of a scene tree, and `ThreeStage`, which
 * owns the WebGL renderer (with context-loss handling), scene, perspective camera, orbit
 * controls, resize observer, render scheduling, hover raycasting and the hover marker. The plots
 * build their content and read-outs on top of it.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
export const BACKGROUND = '#ffffff';
export const GRID_COLOR = '#e3e7ec';
export const AXIS_COLOR = '#7b8794';
export const LABEL_COLOR = '#3e4c59';
export const TITLE_COLOR = '#1f2933';

export class WebGLUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`WebGL is not available in this window, so the 3D surface cannot be drawn (${cause instanceof Error ? cause.message : String(cause)}).`);
    this.name = 'WebGLUnavailableError';
  }
}

/** A camera-facing text label `worldHeight` units tall, drawn on a canvas texture. */
export function textSprite(text: string, worldHeight: number, color = LABEL_COLOR, weight = 400): THREE.Sprite {
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

/** Line segments through consecutive pairs of the xyz triples in `points`. */
export function lineSegments(points: readonly number[], color: string, opacity = 1): THREE.LineSegments {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(points, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color, transparent: opacity < 1, opacity }));
}

/** Disposes every geometry, material and material map under `root`. */
export function disposeTree(root: THREE.Object3D): void {
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

type Vec3 = readonly [number, number, number];

export interface ThreeStageOptions {
  readonly testId: string;
  readonly ariaLabel: string;
  readonly cameraPosition: Vec3;
  readonly target: Vec3;
  readonly markerRadius: number;
  readonly markerMaterial: THREE.MeshBasicMaterialParameters;
  /** Elements appended to the host after the stage (e.g. a colour bar), once WebGL works. */
  readonly after?: readonly HTMLElement[];
  /** Called on every resize, after the camera is updated and before the frame is drawn. */
  readonly onResize?: () => void;
  readonly onPointerMove: (ev: PointerEvent) => void;
  readonly onPointerLeave: () => void;
  readonly onContextLost: () => void;
}

/**
 * A canvas in a `.surface-stage` div with a WebGL 2 renderer, scene, camera and orbit controls.
 * Throws WebGLUnavailableError when no WebGL 2 context can be made (nothing is added to the
 * host then). The owner calls `resize()` once it is ready to draw.
 */
export class ThreeStage {
  readonly canvas: HTMLCanvasElement;
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly camera = new THREE.PerspectiveCamera(38, 1, 0.05, 100);
  readonly controls: OrbitControls;
  readonly marker: THREE.Mesh;
  private readonly raycaster = new THREE.Raycaster();
  private readonly observer: ResizeObserver;
  private content: THREE.Object3D | null = null;
  private frame = 0;
  private disposed = false;

  constructor(
    host: HTMLElement,
    private readonly options: ThreeStageOptions,
  ) {
    const stage = document.createElement('div');
    stage.className = 'surface-stage';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'surface-canvas';
    this.canvas.setAttribute('data-testid', options.testId);
    this.canvas.setAttribute('aria-label', options.ariaLabel);
    stage.appendChild(this.canvas);
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
    host.append(stage, ...(options.after ?? []));
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.scene.background = new THREE.Color(BACKGROUND);
    this.camera.position.set(...options.cameraPosition);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.target.set(...options.target);
    this.controls.minDistance = 1.2;
    this.controls.maxDistance = 12;
    this.controls.update();
    this.controls.addEventListener('change', this.requestRender);
    this.marker = new THREE.Mesh(new THREE.SphereGeometry(options.markerRadius, 20, 12), new THREE.MeshBasicMaterial(options.markerMaterial));
    this.marker.renderOrder = 10;
    this.marker.visible = false;
    this.scene.add(this.marker);
    this.canvas.addEventListener('pointermove', options.onPointerMove);
    this.canvas.addEventListener('pointerleave', options.onPointerLeave);
    this.canvas.addEventListener('webglcontextlost', this.handleContextLost);
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(stage);
  }

  /** Replaces the plot content (disposing the old) and hides the marker; does not draw. */
  setContent(content: THREE.Object3D): void {
    if (this.content) {
      this.scene.remove(this.content);
      disposeTree(this.content);
    }
    this.content = content;
    this.scene.add(content);
    this.marker.visible = false;
  }

  /** The first hit under the pointer among `targets`. */
  pick(ev: PointerEvent, targets: readonly THREE.Object3D[]): THREE.Intersection | undefined {
    const rect = this.canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((ev.clientX - rect.left) / rect.width) * 2 - 1, -((ev.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    return this.raycaster.intersectObjects([...targets], false)[0];
  }

  /** Puts the hover marker at (x, y, z) and schedules a frame. */
  showMarker(x: number, y: number, z: number): void {
    this.marker.position.set(x, y, z);
    this.marker.visible = true;
    this.requestRender();
  }

  /** Hides the hover marker (scheduling a frame only when it was shown). */
  hideMarker(): void {
    if (!this.marker.visible) return;
    this.marker.visible = false;
    this.requestRender();
  }

  resize(): void {
    if (this.disposed) return;
    const stage = this.canvas.parentElement;
    const w = Math.max(1, stage?.clientWidth ?? 600);
    const h = Math.max(1, stage?.clientHeight ?? 420);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.options.onResize?.();
    this.renderNow();
  }

  readonly requestRender = (): void => {
    if (this.disposed || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderNow();
    });
  };

  renderNow(): void {
    if (this.disposed) return;
    this.renderer.render(this.scene, this.camera);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
    this.controls.removeEventListener('change', this.requestRender);
    this.controls.dispose();
    this.canvas.removeEventListener('pointermove', this.options.onPointerMove);
    this.canvas.removeEventListener('pointerleave', this.options.onPointerLeave);
    this.canvas.removeEventListener('webglcontextlost', this.handleContextLost);
    disposeTree(this.scene);
    this.renderer.dispose();
    this.renderer.forceContextLoss();
  }

  private readonly handleContextLost = (ev: Event): void => {
    ev.preventDefault();
    this.options.onContextLost();
  };
}
