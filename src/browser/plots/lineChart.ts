/**
 * The interactive line chart: the shared static SVG (src/common/plots/lineChartSvg.ts) plus a
 * hover read-out that snaps to the nearest data point.
 */
import { lineChartLayout, lineChartSvg } from '../../common/plots/lineChartSvg';
import type { LaidOutPoint, LineChartOptions } from '../../common/plots/lineChartSvg';
import { formatValue } from '../../common/plots/ticks';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Pixel distance within which the pointer snaps to a point. */
const SNAP_PX = 48;

export interface NearestPoint {
  readonly series: number;
  readonly point: LaidOutPoint;
  readonly distance: number;
}

/** The point nearest to (px, py) in chart pixels, or null if none is within `maxDistance`. */
export function nearestPoint(series: readonly { points: readonly LaidOutPoint[] }[], px: number, py: number, maxDistance = SNAP_PX): NearestPoint | null {
  let best: NearestPoint | null = null;
  series.forEach((s, si) => {
    for (const p of s.points) {
      const d = Math.hypot(p.px - px, p.py - py);
      if (d <= maxDistance && (best === null || d < best.distance)) best = { series: si, point: p, distance: d };
    }
  });
  return best;
}

/**
 * Draws the chart into `container` and wires the read-out into `readout`.
 * Returns a function that removes the listeners.
 */
export function mountLineChart(container: HTMLElement, readout: HTMLElement, opts: LineChartOptions): () => void {
  const layout = lineChartLayout(opts);
  container.innerHTML = lineChartSvg(opts);
  const svg = container.querySelector('svg');
  const idle = 'Hover the chart to read values.';
  readout.textContent = idle;
  if (!svg) return () => {};
  svg.setAttribute('width', '100%');
  svg.removeAttribute('height');
  svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  svg.classList.add('line-chart-svg');

  const guide = document.createElementNS(SVG_NS, 'line');
  guide.setAttribute('stroke', '#9aa5b1');
  guide.setAttribute('stroke-dasharray', '3 3');
  guide.setAttribute('y1', String(layout.plot.top));
  guide.setAttribute('y2', String(layout.plot.bottom));
  guide.setAttribute('visibility', 'hidden');
  const marker = document.createElementNS(SVG_NS, 'circle');
  marker.setAttribute('r', '6');
  marker.setAttribute('fill', 'none');
  marker.setAttribute('stroke-width', '2.5');
  marker.setAttribute('visibility', 'hidden');
  marker.setAttribute('pointer-events', 'none');
  guide.setAttribute('pointer-events', 'none');
  svg.append(guide, marker);

  const hide = (): void => {
    guide.setAttribute('visibility', 'hidden');
    marker.setAttribute('visibility', 'hidden');
    readout.textContent = idle;
    readout.classList.remove('active');
  };

  const onMove = (ev: PointerEvent): void => {
    const ctm = svg.getScreenCTM();
    if (!ctm) return;
    const pt = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
    const hit = nearestPoint(layout.series, pt.x, pt.y);
    if (!hit) {
      hide();
      return;
    }
    const s = layout.series[hit.series];
    if (!s) return;
    const x = String(hit.point.px);
    guide.setAttribute('x1', x);
    guide.setAttribute('x2', x);
    guide.setAttribute('visibility', 'visible');
    marker.setAttribute('cx', x);
    marker.setAttribute('cy', String(hit.point.py));
    marker.setAttribute('stroke', s.color);
    marker.setAttribute('visibility', 'visible');
    readout.textContent = `${s.name}: ${opts.xLabel} = ${formatValue(hit.point.x, 6)}, ${opts.yLabel} = ${formatValue(hit.point.y)}`;
    readout.classList.add('active');
  };
  svg.addEventListener('pointermove', onMove);
  svg.addEventListener('pointerleave', hide);
  return () => {
    svg.removeEventListener('pointermove', onMove);
    svg.removeEventListener('pointerleave', hide);
  };
}
