// Price and volume chart in plain SVG (no library, no inline style: colours are SVG attributes, which the
// Content-Security-Policy allows). Used by the public market summary (daily bars) and the order book (trades).
import { fmtNumber, fmtYuan, h, svg, t } from './lib.js';

const WIDTH = 760;
const MARGIN = { top: 14, right: 62, bottom: 30, left: 78 };
const COLOURS = { price: '#0f6b4f', range: '#86bfa9', volume: '#b9c6d3', grid: '#e4e9ee', text: '#5d6b7a', last: '#b4541a' };

/** Three to six round price levels (fen) covering [low, high]. */
export function priceTicks(low, high) {
  const raw = Math.max(high - low, 1) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high; v += step) ticks.push(Math.round(v));
  return ticks;
}

/** The price range shown: the data's low and high with a margin, never empty. */
function priceRange(points) {
  const lows = points.map((p) => p.low_fen ?? p.price_fen);
  const highs = points.map((p) => p.high_fen ?? p.price_fen);
  let low = Math.min(...lows);
  let high = Math.max(...highs);
  const pad = Math.max(Math.round((high - low) * 0.08), Math.round(high * 0.01), 1);
  low = Math.max(0, low - pad);
  high += pad;
  return [low, high];
}

/**
 * A price line (with each point's high-low range when given) over volume bars.
 * points: [{label, price_fen, high_fen?, low_fen?, volume_t}] oldest first.
 * options: {height, title and caption (message keys)}. Returns the chart with its caption; with no points, a note instead of a chart.
 */
export function priceVolumeChart(points, { height = 280, title = 'chart.title', caption = 'chart.caption' } = {}) {
  if (!points.length) return h('p', { class: 'muted chart-empty' }, t('chart.empty'));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const priceH = Math.round(plotH * 0.68);
  const volumeTop = MARGIN.top + priceH + 14;
  const volumeH = plotH - priceH - 14;
  const [low, high] = priceRange(points);
  const maxVolume = Math.max(...points.map((p) => p.volume_t), 1);
  const band = plotW / points.length;
  const x = (i) => MARGIN.left + band * (i + 0.5);
  const y = (fen) => MARGIN.top + priceH - ((fen - low) / (high - low)) * priceH;
  const text = (attrs, content) => svg('text', { fill: COLOURS.text, 'font-size': 11, ...attrs }, content);

  const grid = priceTicks(low, high).map((fen) => [
    svg('line', { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(fen), y2: y(fen), stroke: COLOURS.grid }),
    text({ x: MARGIN.left - 8, y: y(fen) + 4, 'text-anchor': 'end' }, fmtYuan(fen)),
  ]);
  const volumeAxis = [
    svg('line', { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: volumeTop + volumeH, y2: volumeTop + volumeH,
      stroke: COLOURS.grid }),
    text({ x: MARGIN.left + plotW + 6, y: volumeTop + 10 }, `${fmtNumber(maxVolume)} t`),
    text({ x: MARGIN.left + plotW + 6, y: volumeTop + volumeH }, '0'),
    text({ x: MARGIN.left - 8, y: volumeTop + volumeH / 2 + 4, 'text-anchor': 'end' }, t('chart.volume')),
  ];
  const barW = Math.max(2, Math.min(band * 0.6, 26));
  const bars = points.map((p, i) => {
    const barH = (p.volume_t / maxVolume) * volumeH;
    return svg('rect', { x: x(i) - barW / 2, y: volumeTop + volumeH - barH, width: barW, height: Math.max(barH, 0.5),
      fill: COLOURS.volume }, svg('title', {}, `${p.label}  ${fmtNumber(p.volume_t)} t`));
  });
  const ranges = points.filter((p) => p.high_fen !== undefined && p.high_fen !== p.low_fen).map((p) => {
    const i = points.indexOf(p);
    return svg('line', { x1: x(i), x2: x(i), y1: y(p.high_fen), y2: y(p.low_fen), stroke: COLOURS.range,
      'stroke-width': Math.max(2, Math.min(band * 0.25, 8)), 'stroke-linecap': 'round' });
  });
  const line = points.length > 1
    ? svg('polyline', { points: points.map((p, i) => `${x(i)},${y(p.price_fen)}`).join(' '), fill: 'none',
      stroke: COLOURS.price, 'stroke-width': 2, 'stroke-linejoin': 'round' })
    : null;
  const dots = points.map((p, i) => svg('circle', { cx: x(i), cy: y(p.price_fen), r: points.length > 60 ? 2 : 3.5,
    fill: i === points.length - 1 ? COLOURS.last : COLOURS.price },
  svg('title', {}, `${p.label}  ${fmtYuan(p.price_fen)}`)));
  const every = Math.ceil(points.length / 8);
  const labels = points.map((p, i) => ((points.length - 1 - i) % every === 0
    ? text({ x: x(i), y: height - 8, 'text-anchor': 'middle' }, p.label) : null));
  const last = points[points.length - 1];
  const lastLabel = text({ x: MARGIN.left + plotW + 6, y: y(last.price_fen) + 4, fill: COLOURS.last,
    'font-weight': 700 }, fmtYuan(last.price_fen));

  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, width: '100%', role: 'img',
    'aria-label': t(title), class: 'chart', preserveAspectRatio: 'xMidYMid meet' },
  svg('title', {}, t(title)), grid, volumeAxis, bars, ranges, line, dots, labels, lastLabel);
  return h('div', { class: 'chart-figure', role: 'figure', 'aria-label': t(title) }, chart,
    h('p', { class: 'muted small' }, t(caption)));
}

export const messages = {
  zh: {
    'chart.title': '价格与成交量',
    'chart.empty': '暂无成交，尚无价格走势。',
    'chart.volume': '成交量',
    'chart.caption': '折线为每日收盘价（竖线为当日最高—最低），柱为成交量（吨）。',
    'chart.caption_trades': '点为逐笔成交价，柱为每笔成交量（吨）。',
  },
  en: {
    'chart.title': 'Price and volume',
    'chart.empty': 'No trades yet, so no price history.',
    'chart.volume': 'Volume',
    'chart.caption': 'The line is each day\'s closing price (vertical strokes: the day\'s high to low); bars are volume in tonnes.',
    'chart.caption_trades': 'Each dot is a trade\'s price; bars are each trade\'s quantity in tonnes.',
  },
};
