// Exact area-average resizing, shared by the widgets that resize pixels
// (a port of area_weights in mkdocs_tfjs/preprocess.py).

// For each output pixel, the source pixels it covers and their weights.
export function areaWeights(source, target) {
  const scale = source / target;
  const rows = [];
  for (let out = 0; out < target; out++) {
    const start = out * scale, end = (out + 1) * scale;
    const row = [];
    for (let p = Math.floor(start); p < Math.min(source, Math.ceil(end)); p++) {
      const w = Math.max(0, Math.min(p + 1, end) - Math.max(p, start));
      if (w > 0) row.push([p, w / scale]);
    }
    rows.push(row);
  }
  return rows;
}
