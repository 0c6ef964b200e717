/**
 * An image model's picture on a canvas at a readable size (its pixels kept square), bare or with
 * a map over its patches coloured as the token chips are: the faithfulness patch maps and the
 * fidelity attention rows over the picture.
 */
import type { PatchGrid } from '../../../common/plots/patchOverlay';
import { patchOverlay } from '../../../common/plots/patchOverlay';
import { h } from '../../dom';
import type { Attrs, Child } from '../../dom';
import { chipColor } from '../../plots/faithShaping';

/** RGBA pixels (width × height) on a canvas drawn about 168 CSS pixels across; `attrs` are added to the canvas. */
export function pictureCanvas(pixels: Uint8ClampedArray<ArrayBuffer>, width: number, height: number, attrs: Attrs = {}): HTMLCanvasElement {
  const canvas = h('canvas', { class: 'faith-patch-canvas', width, height, ...attrs });
  const scale = Math.max(1, Math.floor(168 / Math.max(width, height)));
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  canvas.style.imageRendering = 'pixelated';
  canvas.getContext('2d')?.putImageData(new ImageData(pixels, width, height), 0, 0);
  return canvas;
}

/** The picture (RGBA) with `values` (one per token; the patches follow the grid's prefix) over its patches. */
export function patchMapCanvas(rgba: Uint8Array, width: number, height: number, grid: PatchGrid, values: readonly number[], signed: boolean, attrs: Attrs = {}): HTMLCanvasElement {
  return pictureCanvas(patchOverlay(rgba, width, height, grid, values, signed, chipColor), width, height, attrs);
}

/** A picture's canvas with its small caption below. */
export function patchFigure(canvas: HTMLCanvasElement, ...caption: Child[]): HTMLElement {
  return h('figure', { class: 'faith-patch-map' }, canvas, h('figcaption', { class: 'small' }, ...caption));
}
