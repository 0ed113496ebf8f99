/** A confusion matrix as a standalone SVG heat map (no dependencies; any browser opens it). */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/**
 * Renders `matrix[true][predicted]` counts as a heat map: each row is coloured by the share
 * of that class's examples (so rare classes read as well as common ones), with the counts
 * written in the cells when there are at most 30 classes.
 */
export function confusionSvg(matrix: readonly (readonly number[])[], classes: readonly string[], title: string): string {
  const k = classes.length;
  if (k === 0 || matrix.length !== k || matrix.some((r) => r.length !== k)) {
    throw new RangeError(`confusionSvg: need a ${k}x${k} matrix for ${k} classes, got ${matrix.length} rows of [${matrix.map((r) => r.length).join(', ')}]`);
  }
  const cell = Math.max(8, Math.min(48, Math.floor(720 / k)));
  const font = Math.max(6, Math.min(12, cell * 0.35));
  const labelW = Math.ceil(Math.min(200, 12 + font * 0.62 * Math.max(...classes.map((c) => c.length))));
  const left = labelW + 30;
  const top = labelW + 60;
  const size = cell * k;
  const width = left + size + 20;
  const height = top + size + 20;
  const text = k <= 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${font.toFixed(1)}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text x="${left + size / 2}" y="44" text-anchor="middle" font-size="12">predicted class</text>`,
    `<text transform="translate(14 ${top + size / 2}) rotate(-90)" text-anchor="middle" font-size="12">true class</text>`,
  ];
  for (let i = 0; i < k; i++) {
    const cy = top + i * cell + cell / 2;
    parts.push(`<text x="${left - 4}" y="${(cy + font * 0.35).toFixed(1)}" text-anchor="end">${esc(classes[i]!)}</text>`);
    const cx = left + i * cell + cell / 2;
    parts.push(`<text transform="translate(${(cx + font * 0.35).toFixed(1)} ${top - 4}) rotate(-90)">${esc(classes[i]!)}</text>`);
  }
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((n, j) => {
      const share = total > 0 ? n / total : 0;
      // White to dark blue; the diagonal is what a good model fills.
      const shade = (v: number) => Math.round(255 - share * (255 - v));
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade(8)},${shade(48)},${shade(107)})" stroke="#ddd" stroke-width="0.5"><title>${esc(classes[i]!)} -> ${esc(classes[j]!)}: ${n}</title></rect>`);
      if (text && n > 0) {
        parts.push(`<text x="${left + j * cell + cell / 2}" y="${(top + i * cell + cell / 2 + font * 0.35).toFixed(1)}" text-anchor="middle" fill="${share > 0.5 ? 'white' : 'black'}">${n}</text>`);
      }
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
