import { describe, expect, it } from 'vitest';
import { MISSING_COLOR, viridisHex } from './colormap';
import { colorBarTicks, heatmapSvg } from './heatmapSvg';

const base = { title: 'Error', xLabel: 'n', yLabel: 'w', colorLabel: 'rel_err_max' };

function cellFills(svg: string): string[] {
  const cells = svg.slice(svg.indexOf('<g class="cells">'), svg.indexOf('</g>', svg.indexOf('<g class="cells">')));
  return [...cells.matchAll(/<rect [^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1] as string);
}

describe('heatmapSvg', () => {
  it('draws one cell per grid point, coloured by value, rows from the bottom', () => {
    const svg = heatmapSvg({ ...base, xs: [128, 256], ys: [16, 64], values: [[1, 2], [3, null]] });
    // Cells in (yi, xi) order: 1 -> bottom colour, 2 -> middle, 3 -> top, missing -> grey.
    expect(cellFills(svg)).toEqual([viridisHex(0), viridisHex(0.5), viridisHex(1), MISSING_COLOR]);
    expect(svg).toContain('<title>n = 256, w = 64: missing</title>');
    expect(svg).toContain('<title>n = 128, w = 16: rel_err_max = 1</title>');
    expect(svg).toContain('>missing</text>');
    expect(svg).toContain('>128</text>');
    expect(svg).toContain('>64</text>');
  });

  it('colours by log10 under `log`, with zero at the bottom colour', () => {
    const svg = heatmapSvg({ ...base, log: true, xs: [1, 2], ys: [1, 2], values: [[0, 1e-6], [1e-4, 1e-2]] });
    expect(cellFills(svg)).toEqual([viridisHex(0), viridisHex(0), viridisHex(0.5), viridisHex(1)]);
    expect(svg).toContain('rel_err_max (log)');
    expect(svg).toContain('>1e-4</text>');
  });

  it('has a colour bar running from the lowest to the highest colour', () => {
    const svg = heatmapSvg({ ...base, xs: [1], ys: [1, 2], values: [[0], [10]] });
    const start = svg.indexOf('<g class="color-bar">');
    const bar = svg.slice(start, svg.indexOf('</g>', start));
    const fills = [...bar.matchAll(/<rect [^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(fills).toHaveLength(64);
    expect(fills[0]).toBe(viridisHex(0.5 / 64));
    expect(fills[63]).toBe(viridisHex(63.5 / 64));
  });

  it('escapes text and uses no style attributes', () => {
    const svg = heatmapSvg({ ...base, title: '<b>', colorLabel: 'a&b', xs: [1], ys: [1], values: [[1]] });
    expect(svg).toContain('&lt;b&gt;');
    expect(svg).toContain('a&amp;b');
    expect(svg).not.toContain('<b>');
    expect(svg).not.toMatch(/\sstyle=/);
  });

  it('treats missing rows and non-finite values as missing, and says when nothing is left', () => {
    const svg = heatmapSvg({ ...base, xs: [1, 2], ys: [1, 2], values: [[Number.NaN, null]] });
    expect(cellFills(svg)).toEqual([MISSING_COLOR, MISSING_COLOR, MISSING_COLOR, MISSING_COLOR]);
    expect(svg).toContain('No data to plot');
    expect(svg).not.toContain('<g class="color-bar">');
  });
});

describe('colorBarTicks', () => {
  it('places log ticks evenly by decade', () => {
    expect(colorBarTicks({ min: 1e-6, max: 1e-2, log: true })).toEqual([
      { value: 1e-6, t: 0, label: '1e-6' },
      { value: 1e-5, t: 0.25, label: '1e-5' },
      { value: 1e-4, t: 0.5, label: '1e-4' },
      { value: 1e-3, t: 0.75, label: '0.001' },
      { value: 1e-2, t: 1, label: '0.01' },
    ]);
  });
  it('places linear ticks by position in the domain', () => {
    const ticks = colorBarTicks({ min: 0, max: 10, log: false });
    expect(ticks.map((t) => t.value)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks.map((t) => t.t)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});
