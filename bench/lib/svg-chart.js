/** A small line-chart writer for the soak results: plain SVG, no chart dependency. */

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A "nice" upper bound and tick step for an axis from 0 to max. */
function niceScale(max, ticks = 5) {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return { top: Math.ceil(max / step) * step, step };
}

/**
 * One chart panel as an SVG <g>, placed at (x, y) with the given size.
 * series: [{ name, color, points: [[x, y], …], dashed? }]
 */
export function linePanel({ x, y, width, height, title, xLabel, yLabel, series, xMax }) {
  const pad = { left: 60, right: 20, top: 30, bottom: 42 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const allX = series.flatMap((s) => s.points.map((p) => p[0]));
  const allY = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xs = niceScale(xMax ?? Math.max(...allX, 1));
  const ys = niceScale(Math.max(...allY, 0) * 1.1);
  const px = (v) => pad.left + (v / xs.top) * w;
  const py = (v) => pad.top + h - (v / ys.top) * h;
  const parts = [`<g transform="translate(${x},${y})">`, `<text x="${pad.left}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`];
  for (let v = 0; v <= ys.top + 1e-9; v += ys.step) {
    parts.push(`<line x1="${pad.left}" x2="${pad.left + w}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${py(v) + 4}" font-size="11" text-anchor="end">${+v.toFixed(3)}</text>`);
  }
  for (let v = 0; v <= xs.top + 1e-9; v += xs.step) {
    parts.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${pad.top + h}" y2="${pad.top + h + 4}" stroke="#555"/>`);
    parts.push(`<text x="${px(v)}" y="${pad.top + h + 17}" font-size="11" text-anchor="middle">${+v.toFixed(3)}</text>`);
  }
  parts.push(`<rect x="${pad.left}" y="${pad.top}" width="${w}" height="${h}" fill="none" stroke="#555"/>`);
  parts.push(`<text x="${pad.left + w / 2}" y="${height - 6}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14,${pad.top + h / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length) {
      const d = pts.map((p, j) => `${j ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ");
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ""}/>`);
      for (const p of pts) parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    const lx = pad.left + 10 + i * 170;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${pad.top + 12}" y2="${pad.top + 12}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ""}/>`);
    parts.push(`<text x="${lx + 24}" y="${pad.top + 16}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push("</g>");
  return parts.join("\n");
}

/** A whole SVG document of panels stacked vertically. */
export function svgDocument({ width, panelHeight, title, subtitle, panels }) {
  const head = 48;
  const height = head + panels.length * panelHeight;
  const body = panels.map((p, i) => linePanel({ ...p, x: 0, y: head + i * panelHeight, width, height: panelHeight }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="20" y="40" font-size="12" fill="#444">${esc(subtitle)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
