// Product images in: which file belongs to which product, and decoding one into a fixed-size
// sRGB pixel grid with sharp (EXIF rotation applied, transparency flattened onto white,
// grayscale expanded to three channels, resized to cover a square and centre-cropped).
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Extensions tried for `<item_id>.<ext>` when items.csv gives no image_url. */
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp'];

/** An image file's path, or the encoded bytes of one (JPEG, PNG, WebP…). */
export type ImageSource = string | Buffer;

/** Interleaved 8-bit RGB, row-major, `size × size`. */
export interface RgbImage {
  data: Uint8Array;
  size: number;
}

/**
 * The image file of one product: image_url when given (a path relative to `dir`, an absolute path,
 * or an http(s) URL whose file name is looked up in `dir` — nothing is downloaded), otherwise the
 * first `<item_id>.{jpg,jpeg,png,webp}` in `dir`. Returns the path, or null when no file exists.
 */
export function imageFileFor(dir: string, itemId: string, imageUrl: string): string | null {
  const url = imageUrl.trim();
  let candidates: string[];
  if (/^https?:\/\//i.test(url)) candidates = [path.join(dir, urlFileName(url))];
  else if (url.length > 0) candidates = [path.resolve(dir, url)];
  else candidates = IMAGE_EXTENSIONS.map((ext) => path.join(dir, `${itemId}.${ext}`));
  return candidates.find((file) => fs.existsSync(file)) ?? null;
}

/** The file name a URL ends in: query and fragment dropped, %-escapes decoded (kept as they are when malformed). */
function urlFileName(url: string): string {
  const name = path.posix.basename(url.replace(/[?#].*$/, ''));
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Decodes an image into `size × size` RGB; throws with the decoder's message for a corrupt or unsupported image. */
export async function loadRgb(source: ImageSource, size: number): Promise<RgbImage> {
  const { data, info } = await sharp(source, { failOn: 'error' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(size, size, { fit: 'cover' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size };
}
