// Crash-safe file output: data goes to a temporary file in the target directory, is fsynced,
// then renamed over the final name, so a reader never sees a half-written file under that name.
import fs from 'node:fs';
import path from 'node:path';

/** File contents: text, bytes, or a list of parts written in order (avoids concatenating large buffers). */
export type FileData = string | ArrayBufferView | Array<string | ArrayBufferView>;

/** Largest single write; fs.writeSync cannot take more than 2 GiB at once. */
const MAX_WRITE = 1 << 30;

let tempCounter = 0;

function tempPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  tempCounter += 1;
  return path.join(dir, `.${base}.tmp-${process.pid}-${Date.now().toString(36)}-${tempCounter}`);
}

function writeAll(fd: number, part: string | ArrayBufferView): void {
  const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  for (let offset = 0; offset < bytes.byteLength;) {
    const length = Math.min(MAX_WRITE, bytes.byteLength - offset);
    offset += fs.writeSync(fd, bytes, offset, length);
  }
}

/** Writes `data` to a fresh temporary file beside `finalPath`, fsynced; returns the temporary path. */
export function stageFile(finalPath: string, data: FileData): string {
  const temp = tempPathFor(finalPath);
  const fd = fs.openSync(temp, 'wx', 0o644);
  try {
    for (const part of Array.isArray(data) ? data : [data]) writeAll(fd, part);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    removeQuietly(temp);
    throw error;
  }
  fs.closeSync(fd);
  return temp;
}

/** Flushes a directory entry change (rename) to disk; not supported everywhere, so failures are ignored. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms/filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** Atomically replaces `filePath` with `data` (temp file in the same directory, fsync, rename). */
export function writeFileAtomic(filePath: string, data: FileData): void {
  const temp = stageFile(filePath, data);
  try {
    fs.renameSync(temp, filePath);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
  fsyncDir(path.dirname(filePath));
}

/**
 * Writes a whole output directory: every file is staged under a temporary name first, and only
 * when all are complete are they renamed into place. A failure part-way leaves no temporary files
 * and no half-written file under a final name (files already complete from an earlier run stay).
 * Entries are produced lazily, one at a time, so large contents need not all be in memory at once.
 */
export function writeDirectoryAtomic(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): void {
  fs.mkdirSync(dir, { recursive: true });
  const staged: Array<[temp: string, final: string]> = [];
  try {
    for (const [name, data] of files) {
      const finalPath = path.join(dir, name);
      staged.push([stageFile(finalPath, typeof data === 'function' ? data() : data), finalPath]);
    }
  } catch (error) {
    for (const [temp] of staged) removeQuietly(temp);
    throw error;
  }
  for (let k = 0; k < staged.length; k++) {
    try {
      fs.renameSync(staged[k][0], staged[k][1]);
    } catch (error) {
      for (const [temp] of staged.slice(k)) removeQuietly(temp);
      throw error;
    }
  }
  fsyncDir(dir);
}
