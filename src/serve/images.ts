// `vasg serve --images DIR`: each product's picture at GET /items/:id/image, read from a local folder.
// The file is found the way `vasg features` finds it (image_url relative to DIR, an http(s) URL's file
// name in DIR, or <item_id>.jpg/.png/…), so the request never names a path; the resolved file must
// still lie inside DIR (after symlinks), because image_url comes from data and from POST /items.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../errors.js';
import { imageFileFor } from '../features/image.js';
import type { Catalog } from './catalog.js';

/** Raster formats a browser shows; SVG is left out on purpose (it can carry scripts). */
const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif', '.avif': 'image/avif',
};

/** An hour: product photos rarely change, and the ETag lets a browser revalidate cheaply after that. */
const CACHE_CONTROL = 'public, max-age=3600';

/** The images folder, checked once at start: a missing folder is a configuration error, not 404s later. */
export function imagesRoot(dir: string): string {
  let root: string;
  try {
    root = fs.realpathSync(dir);
  } catch {
    throw new ConfigError(`--images ${dir}: no such folder`, 'images');
  }
  if (!fs.statSync(root).isDirectory()) throw new ConfigError(`--images ${dir}: not a folder`, 'images');
  return root;
}

export function registerImageRoute(app: FastifyInstance, current: () => Catalog, root: string): void {
  app.get('/items/:id/image', {
    schema: {
      summary: 'the product\'s picture from the --images folder (404 when it has none there)',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } },
    },
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const catalog = current();
    const { imageUrl } = catalog.model.itemMeta(catalog.model.itemIndexOf(id)); // unknown id: 404 from the error handler
    const file = localImage(root, id, imageUrl);
    if (!file) return reply.code(404).send({ error: `product "${id}" has no image in the images folder`, id });
    const stat = fs.statSync(file.path);
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    reply.header('cache-control', CACHE_CONTROL).header('etag', etag).header('last-modified', stat.mtime.toUTCString())
      .header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(file.contentType).header('content-length', stat.size).send(fs.createReadStream(file.path));
  });
}

/** The product's image file inside `root` with a browser-safe type, or null. */
export function localImage(root: string, itemId: string, imageUrl: string): { path: string; contentType: string } | null {
  const found = imageFileFor(root, itemId, imageUrl);
  if (!found) return null;
  const real = fs.realpathSync(found);
  if (!isInside(root, real) || !fs.statSync(real).isFile()) return null;
  const contentType = CONTENT_TYPES[path.extname(real).toLowerCase()];
  return contentType ? { path: real, contentType } : null;
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
