/** Binary PPM (P6, 8-bit RGB): the image format of the ImageFlowCanvas reference pipeline. */
export interface Pixmap {
  width: number;
  height: number;
  /** width × height × 3 bytes, rows top to bottom. */
  rgb: Uint8Array;
}

export function encodePixmap(p: Pixmap): Buffer {
  return Buffer.concat([Buffer.from(`P6\n${p.width} ${p.height}\n255\n`, 'ascii'), Buffer.from(p.rgb)]);
}

/** Decodes a P6 image; throws a message naming what is wrong. */
export function decodePixmap(data: Uint8Array): Pixmap {
  const buf = Buffer.from(data);
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4 && i < buf.length) {
    const c = buf[i]!;
    if (c === 0x23) {
      while (i < buf.length && buf[i] !== 0x0a) i++;
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
    } else {
      let j = i;
      while (j < buf.length && ![0x20, 0x0a, 0x0d, 0x09].includes(buf[j]!)) j++;
      fields.push(buf.toString('ascii', i, j));
      i = j;
    }
  }
  i++; // the single white-space character after maxval
  const [magic, w, h, max] = fields;
  if (magic !== 'P6')
    throw new Error(`not a binary PPM image (magic ${JSON.stringify(magic)}, expected "P6")`);
  const width = Number(w);
  const height = Number(h);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new Error(`PPM image: bad size ${w}×${h}`);
  if (max !== '255') throw new Error(`PPM image: maxval ${max} (only 255 is supported)`);
  const rgb = buf.subarray(i, i + width * height * 3);
  if (rgb.length !== width * height * 3)
    throw new Error(`PPM image: ${rgb.length} bytes of pixels, expected ${width * height * 3}`);
  return { width, height, rgb: new Uint8Array(rgb) };
}
