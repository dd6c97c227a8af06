// SVG figures of the analyses and sensitivity plots (Figures 2, 4, 5), drawn with vega-lite specs
// compiled to vega and rendered headless (renderer 'none' → toSVG), so no browser or canvas is
// needed. Each function takes plain records (as eval/analysis.ts returns them) and resolves to an
// SVG string.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Histogram } from './analysis.js';

export interface FigureOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  width: number;
  height: number;
}

const defaults: FigureOptions = { title: '', xTitle: 'x', yTitle: 'y', width: 480, height: 360 };

export interface ScatterPoint {
  x: number;
  y: number;
  group: string;
  /** Thumbnail URL; when every point has one, points are drawn as images. */
  imageUrl?: string;
}

/** Renders a vega-lite spec to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vegaSpec } = compile(spec);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function frame(o: FigureOptions) {
  return { width: o.width, height: o.height, ...(o.title ? { title: o.title } : {}) };
}

/**
 * Points coloured by group (Figure 2). With thumbnails (every point has a non-empty imageUrl) each
 * point is an image framed by a coloured square, like the paper's frames.
 */
export function scatterFigure(points: ScatterPoint[], options: Partial<FigureOptions> = {}): Promise<string> {
  const o = { ...defaults, ...options };
  const values = points.map((p) => ({ x: p.x, y: p.y, group: p.group, url: p.imageUrl ?? '' }));
  const thumbnails = values.length > 0 && values.every((p) => p.url !== '');
  const x = { field: 'x', type: 'quantitative' as const, title: o.xTitle, scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: o.yTitle, scale: { zero: false } };
  const color = { field: 'group', type: 'nominal' as const, title: 'group' };
  const spec: TopLevelSpec = thumbnails
    ? {
      ...frame(o),
      data: { values },
      layer: [
        { mark: { type: 'square', size: 900, filled: false, strokeWidth: 3 }, encoding: { x, y, color } },
        { mark: { type: 'image', width: 26, height: 26 }, encoding: { x, y, url: { field: 'url', type: 'nominal' } } },
      ],
    }
    : { ...frame(o), data: { values }, mark: { type: 'point', filled: true, size: 40, opacity: 0.8 }, encoding: { x, y, color } };
  return renderSvg(spec);
}

/** Binned distributions overlaid as step lines of their densities (Figure 4). */
export function histogramFigure(series: Array<{ name: string; histogram: Histogram }>, options: Partial<FigureOptions> = {}): Promise<string> {
  const o = { ...defaults, xTitle: 'cosine similarity', yTitle: 'density', ...options };
  const values = series.flatMap(({ name, histogram }) => histogram.density.map((density, b) => ({
    series: name, x: (histogram.edges[b] + histogram.edges[b + 1]) / 2, density,
  })));
  return renderSvg({
    ...frame(o),
    data: { values },
    mark: { type: 'area', interpolate: 'step', opacity: 0.45, line: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle },
      y: { field: 'density', type: 'quantitative', title: o.yTitle, stack: null },
      color: { field: 'series', type: 'nominal', title: '' },
    },
  });
}

/** y against x, one line with points per series (sensitivity plots, Figure 5). */
export async function lineFigure(series: Array<{ name: string; x: number[]; y: number[] }>, options: Partial<FigureOptions> = {}): Promise<string> {
  const o = { ...defaults, ...options };
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new Error(`lineFigure: series "${s.name}" has ${s.x.length} x values and ${s.y.length} y values`);
  }
  const values = series.flatMap((s) => s.x.map((x, k) => ({ series: s.name, x, y: s.y[k] })));
  return renderSvg({
    ...frame(o),
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle, scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: '' },
    },
  });
}

/** Grouped bars: one bar per (label, group), e.g. relation accuracy per method and data set. */
export function barFigure(bars: Array<{ label: string; value: number; group?: string }>, options: Partial<FigureOptions> = {}): Promise<string> {
  const o = { ...defaults, ...options };
  const values = bars.map((b) => ({ label: b.label, value: b.value, group: b.group ?? '' }));
  const grouped = values.some((b) => b.group !== '');
  return renderSvg({
    ...frame(o),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'label', type: 'nominal', title: o.xTitle, sort: null },
      y: { field: 'value', type: 'quantitative', title: o.yTitle },
      ...(grouped ? { xOffset: { field: 'group', type: 'nominal' as const }, color: { field: 'group', type: 'nominal' as const, title: '' } } : {}),
    },
  });
}

/** One product in the recommendations figure. */
export interface ProductCell {
  /** Row label, e.g. the user id. */
  row: string;
  /** Column 0..4 bought, 6..10 recommended. */
  column: number;
  category: string;
  title: string;
  cold: boolean;
  /** Thumbnail href (http(s) or data: URI); empty for none. */
  href: string;
}

/** Titles are cut so that neighbouring labels do not overlap. */
const LABEL_CHARS = 14;

/**
 * Users as rows, their bought products left and recommendations right: each product a tile
 * coloured by category with its title (cold products marked), and its thumbnail where it has one.
 */
export function recommendationsFigure(cells: ProductCell[], options: Partial<FigureOptions> = {}): Promise<string> {
  const rows = new Set(cells.map((c) => c.row)).size;
  const o = { ...defaults, width: 11 * 78, height: Math.max(1, rows) * 96, ...options };
  const values = cells.map((c) => {
    const title = c.title || '(untitled)';
    return { ...c, label: (title.length > LABEL_CHARS ? `${title.slice(0, LABEL_CHARS - 1)}…` : title) + (c.cold ? ' ❄' : '') };
  });
  const x = {
    field: 'column', type: 'ordinal' as const, title: 'bought (left) · recommended (right, ❄ = cold product)', scale: { domain: [...Array(11).keys()] },
    axis: { labelExpr: "datum.value < 5 ? 'bought ' + (datum.value + 1) : datum.value > 5 ? 'top ' + (datum.value - 5) : ''", ticks: false, labelAngle: 0 },
  };
  const y = { field: 'row', type: 'nominal' as const, title: o.yTitle };
  return renderSvg({
    ...frame(o),
    data: { values },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'square', size: 2400, filled: true, strokeWidth: 2 },
        encoding: {
          color: { field: 'category', type: 'nominal', title: 'category' },
          opacity: { condition: { test: "datum.href !== ''", value: 0.35 }, value: 0.85 },
          strokeDash: { condition: { test: 'datum.cold', value: [4, 3] }, value: [1, 0] },
          stroke: { value: '#333' },
        },
      },
      { transform: [{ filter: "datum.href !== ''" }], mark: { type: 'image', width: 40, height: 40 }, encoding: { url: { field: 'href', type: 'nominal' } } },
      { mark: { type: 'text', dy: 32, fontSize: 9 }, encoding: { text: { field: 'label', type: 'nominal' } } },
    ],
  });
}
