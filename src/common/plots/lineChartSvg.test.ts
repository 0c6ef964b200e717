import { describe, expect, it } from 'vitest';
import { categoricalColor } from './colormap';
import { lineChartLayout, lineChartSvg } from './lineChartSvg';

const base = { title: 'T', xLabel: 'x', yLabel: 'y', width: 720, height: 420 };

describe('lineChartLayout', () => {
  const layout = lineChartLayout({ ...base, series: [{ name: 'a', points: [{ x: 10, y: 100 }, { x: 0, y: 0 }] }] });

  it('places the plot area from the margins', () => {
    // Legend 90 px wide (minimum), y labels up to 3 characters: left = round(30 + 3 * 7.2 + 10) = 62.
    expect(layout.plot).toEqual({ left: 62, top: 44, right: 614, bottom: 368 });
  });

  it('maps points through padded linear domains, sorted by x', () => {
    // x: [0, 10.4] (4% padding, kept at 0), y: [0, 106] (6% padding, kept at 0).
    expect(layout.xDomain).toEqual([0, 10.4]);
    expect(layout.yDomain?.[0]).toBe(0);
    expect(layout.yDomain?.[1]).toBeCloseTo(106, 9);
    const [p0, p1] = layout.series[0]?.points ?? [];
    expect(p0).toMatchObject({ x: 0, y: 0, px: 62, py: 368 });
    expect(p1?.px).toBeCloseTo(62 + (10 / 10.4) * 552, 9);
    expect(p1?.py).toBeCloseTo(368 - (100 / 106) * 324, 9);
  });

  it('produces nice y ticks at their pixel positions', () => {
    expect(layout.yTicks.map((t) => t.label)).toEqual(['0', '20', '40', '60', '80', '100']);
    expect(layout.yTicks[0]?.pos).toBe(368);
  });

  it('gives series palette colours unless one is set', () => {
    const l = lineChartLayout({
      ...base,
      series: [
        { name: 'a', points: [] },
        { name: 'b', points: [], color: '#123456' },
      ],
    });
    expect(l.series.map((s) => s.color)).toEqual([categoricalColor(0), '#123456']);
  });

  it('uses power-of-two ticks for power-of-two data on a log axis', () => {
    const l = lineChartLayout({
      ...base,
      logX: true,
      logY: true,
      series: [{ name: 'exact', points: [128, 256, 512, 1024, 2048].map((n) => ({ x: n, y: n * 1e-3 })) }],
    });
    expect(l.xTicks.map((t) => t.label)).toEqual(['128', '256', '512', '1024', '2048']);
    // Equal ratios are equal distances on a log axis.
    const pts = l.series[0]?.points ?? [];
    const d1 = (pts[1]?.px ?? 0) - (pts[0]?.px ?? 0);
    const d2 = (pts[4]?.px ?? 0) - (pts[3]?.px ?? 0);
    expect(d1).toBeCloseTo(d2, 9);
  });

  it('drops points a log axis cannot show, and non-finite ones', () => {
    const l = lineChartLayout({
      ...base,
      logY: true,
      series: [{ name: 'a', points: [{ x: 1, y: 0 }, { x: 2, y: 1e-6 }, { x: 3, y: Number.NaN }, { x: 4, y: 1e-5 }] }],
    });
    expect(l.dropped).toBe(2);
    expect(l.series[0]?.points.map((p) => p.x)).toEqual([2, 4]);
  });
});

describe('lineChartSvg', () => {
  it('draws axes, ticks, a path and markers per series, and a legend', () => {
    const svg = lineChartSvg({
      ...base,
      series: [
        { name: 'exact', points: [{ x: 0, y: 0 }, { x: 10, y: 100 }] },
        { name: 'sliding w=16', points: [{ x: 0, y: 10 }, { x: 5, y: 20 }, { x: 10, y: 30 }] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('viewBox="0 0 720 420"');
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(5 + 2); // markers + legend swatches
    // Legend width 12 * 7.2 + 40 = 126.4, so the plot spans x 62..577.6 and y 368..44;
    // (10, 100) -> (62 + 10 / 10.4 * 515.6, 368 - 100 / 106 * 324) = (557.8, 62.3).
    expect(svg).toContain('<path d="M62,368 L557.8,62.3"');
    expect(svg).toContain('>sliding w=16</text>');
    expect(svg).toContain('class="x-label"');
    expect(svg).toContain('>100</text>');
  });

  it('escapes every piece of text', () => {
    const svg = lineChartSvg({
      title: 'a<b & "c"',
      xLabel: '<x>',
      yLabel: "y's",
      series: [{ name: '<script>', points: [{ x: 1, y: 1 }] }],
    });
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).toContain('&lt;x&gt;');
    expect(svg).toContain('y&#39;s');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('a<b');
  });

  it('uses no style attributes (strict CSP)', () => {
    const svg = lineChartSvg({ ...base, series: [{ name: 'a', points: [{ x: 1, y: 2 }] }] });
    expect(svg).not.toMatch(/\sstyle=/);
  });

  it('says so when there is nothing to plot, and notes dropped points', () => {
    expect(lineChartSvg({ ...base, series: [] })).toContain('No data to plot');
    const svg = lineChartSvg({ ...base, logY: true, series: [{ name: 'a', points: [{ x: 1, y: 0 }, { x: 2, y: 3 }] }] });
    expect(svg).toContain('1 point not shown');
    // A series left with no points (e.g. exact attention's zero error on a log axis) stays in the legend, marked.
    const zero = lineChartSvg({ ...base, logY: true, series: [{ name: 'exact', points: [{ x: 1, y: 0 }] }, { name: 'b', points: [{ x: 1, y: 1 }] }] });
    expect(zero).toContain('>exact (no points)</text>');
    expect(zero).toContain('>b</text>');
  });
});
