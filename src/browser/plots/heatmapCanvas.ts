/**
 * An n x n heatmap on a 2D canvas (one pixel block per cell, no smoothing) with a hovered-cell
 * outline, and a vertical colour bar. Colours and geometry come from the pure heatmapData.
 */
import type { Rgb } from '../../common/plots/colormap';
import { rgbToHex } from '../../common/plots/colormap';
import { cellAt, rgbaPixels } from './heatmapData';

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
/** Drawn size (canvas pixels) the map is scaled up to, at least one pixel per cell. */
const TARGET_PX = 320;

export type Cell = { readonly row: number; readonly col: number };

export class HeatmapCanvas {
  private image: HTMLCanvasElement | null = null;
  private n = 0;
  private hovered: Cell | null = null;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onHover: (cell: Cell | null) => void,
  ) {
    canvas.addEventListener('pointermove', this.handleMove);
    canvas.addEventListener('pointerleave', this.handleLeave);
  }

  /** Draws an n x n row-major map through `color`. */
  setData(values: Float32Array, n: number, color: (v: number) => Rgb): void {
    this.n = n;
    const image = document.createElement('canvas');
    image.width = n;
    image.height = n;
    const ictx = image.getContext('2d');
    if (ictx) {
      const data = ictx.createImageData(n, n);
      data.data.set(rgbaPixels(values, color));
      ictx.putImageData(data, 0, 0);
    }
    this.image = image;
    const scale = Math.max(1, Math.floor(TARGET_PX / n));
    this.canvas.width = n * scale;
    this.canvas.height = n * scale;
    this.hovered = null;
    this.redraw();
  }

  clear(): void {
    this.image = null;
    this.n = 0;
    this.hovered = null;
    const ctx = this.canvas.getContext('2d');
    ctx?.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Outlines a cell (the one hovered on any of the linked maps). */
  highlight(cell: Cell | null): void {
    this.hovered = cell;
    this.redraw();
  }

  dispose(): void {
    this.canvas.removeEventListener('pointermove', this.handleMove);
    this.canvas.removeEventListener('pointerleave', this.handleLeave);
    this.image = null;
  }

  private redraw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.image || this.n === 0) return;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, 0, 0, this.canvas.width, this.canvas.height);
    const cell = this.hovered;
    if (cell) {
      const s = this.canvas.width / this.n;
      const lw = Math.max(1.5, Math.min(3, s / 4));
      ctx.lineWidth = lw;
      ctx.strokeStyle = '#111111';
      ctx.strokeRect(cell.col * s + lw / 2, cell.row * s + lw / 2, Math.max(1, s - lw), Math.max(1, s - lw));
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = lw / 2;
      ctx.strokeRect(cell.col * s - lw / 4, cell.row * s - lw / 4, s + lw / 2, s + lw / 2);
    }
  }

  private readonly handleMove = (ev: PointerEvent): void => {
    if (this.n === 0) return;
    const rect = this.canvas.getBoundingClientRect();
    this.onHover(cellAt(ev.clientX - rect.left, ev.clientY - rect.top, rect.width, rect.height, this.n));
  };

  private readonly handleLeave = (): void => this.onHover(null);
}

/**
 * A vertical colour bar: the gradient of `color` over t in [0, 1] (bottom to top) with tick
 * labels at their positions and a title above.
 */
export function drawColorBar(canvas: HTMLCanvasElement, color: (t: number) => Rgb, ticks: readonly { t: number; label: string }[], title: string): void {
  const width = 96;
  const height = 320;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  const top = 28;
  const bottom = height - 12;
  const left = 8;
  const barW = 16;
  const steps = bottom - top;
  for (let i = 0; i < steps; i++) {
    ctx.fillStyle = rgbToHex(color(1 - i / Math.max(1, steps - 1)));
    ctx.fillRect(left, top + i, barW, 1);
  }
  ctx.strokeStyle = '#7b8794';
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, top + 0.5, barW, steps);
  ctx.fillStyle = '#3e4c59';
  ctx.font = `11px ${FONT}`;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  for (const { t, label } of ticks) {
    const y = bottom - t * steps;
    ctx.fillRect(left + barW, Math.round(y), 4, 1);
    ctx.fillText(label, left + barW + 7, y);
  }
  ctx.font = `600 11px ${FONT}`;
  ctx.textBaseline = 'top';
  ctx.fillText(title, 2, 4, width - 4);
}
