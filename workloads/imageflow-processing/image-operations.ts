import type { Pixmap } from './pixmap.ts';

/** Nearest-neighbour resize to `width`, keeping the aspect ratio. */
export function resize(p: Pixmap, width: number): Pixmap {
  const height = Math.max(1, Math.round((p.height * width) / p.width));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(p.height - 1, Math.floor((y * p.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(p.width - 1, Math.floor((x * p.width) / width));
      const s = (sy * p.width + sx) * 3;
      const d = (y * width + x) * 3;
      rgb[d] = p.rgb[s]!;
      rgb[d + 1] = p.rgb[s + 1]!;
      rgb[d + 2] = p.rgb[s + 2]!;
    }
  }
  return { width, height, rgb };
}

export interface Detection {
  x: number;
  y: number;
  width: number;
  height: number;
  area: number;
}

const luma = (p: Pixmap, i: number) =>
  0.299 * p.rgb[i * 3]! + 0.587 * p.rgb[i * 3 + 1]! + 0.114 * p.rgb[i * 3 + 2]!;

/**
 * Objects: 4-connected regions of pixels brighter than `threshold`, at least `minArea` pixels large,
 * as bounding boxes in reading order.
 */
export function detect(p: Pixmap, threshold = 128, minArea = 4): Detection[] {
  const n = p.width * p.height;
  const seen = new Uint8Array(n);
  const found: Detection[] = [];
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (seen[start] || luma(p, start) <= threshold) continue;
    let minX = p.width;
    let minY = p.height;
    let maxX = -1;
    let maxY = -1;
    let area = 0;
    stack.push(start);
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % p.width;
      const y = (i - x) / p.width;
      area++;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
      for (const [nx, ny] of [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ] as const) {
        if (nx < 0 || ny < 0 || nx >= p.width || ny >= p.height) continue;
        const j = ny * p.width + nx;
        if (!seen[j] && luma(p, j) > threshold) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    if (area >= minArea)
      found.push({ x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1, area });
  }
  return found;
}

/** Grey scale (ITU-R BT.601 luma), kept as RGB. */
export function grayscale(p: Pixmap): Pixmap {
  const rgb = new Uint8Array(p.rgb.length);
  for (let i = 0; i < p.width * p.height; i++) {
    const v = Math.round(luma(p, i));
    rgb[i * 3] = v;
    rgb[i * 3 + 1] = v;
    rgb[i * 3 + 2] = v;
  }
  return { width: p.width, height: p.height, rgb };
}
