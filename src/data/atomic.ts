// Crash-safe file output: data goes to a temporary file in the target directory, is fsynced,
// then renamed over the final name, so a reader never sees a half-written file under that name.
// Whole directories are staged beside the target and swapped in; a completion marker listing each
// file's size and CRC-32 lets a load refuse a mixed or corrupted directory.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { ConfigError, InputError } from '../errors.js';

/**
 * File contents: text, bytes, or parts written in order (avoids concatenating large buffers). Parts may
 * come from a generator: each is written before the next is asked for, so it may reuse one buffer.
 */
export type FileData = string | ArrayBufferView | Iterable<string | ArrayBufferView>;

/** Largest single write; fs.writeSync cannot take more than 2 GiB at once. */
const MAX_WRITE = 1 << 30;

let tempCounter = 0;

/** A fresh hidden name beside `finalPath` (same directory, so the final rename is atomic). */
export function tempPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  tempCounter += 1;
  return path.join(dir, `.${base}.tmp-${process.pid}-${Date.now().toString(36)}-${tempCounter}`);
}

/** What the completion marker records of each file: enough to tell another version or a damaged copy. */
export interface FileCheck {
  bytes: number;
  crc32: number;
}

/** Appends `part` to the file and to its running check. */
function writeAll(fd: number, part: string | ArrayBufferView, check: FileCheck): void {
  const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  for (let offset = 0; offset < bytes.byteLength;) {
    const length = Math.min(MAX_WRITE, bytes.byteLength - offset);
    offset += fs.writeSync(fd, bytes, offset, length);
  }
  check.bytes += bytes.byteLength;
  // Skipped when empty: Node 20's zlib.crc32 returns 0, not the running value, for a view of an empty ArrayBuffer.
  if (bytes.byteLength > 0) check.crc32 = zlib.crc32(bytes, check.crc32);
}

/** Writes `data` to a fresh temporary file beside `finalPath`, fsynced; returns the temporary path and the data's check. */
function stageFile(finalPath: string, data: FileData): { temp: string; check: FileCheck } {
  const temp = tempPathFor(finalPath);
  const check: FileCheck = { bytes: 0, crc32: 0 };
  const fd = fs.openSync(temp, 'wx', 0o644);
  try {
    for (const part of typeof data === 'string' || ArrayBuffer.isView(data) ? [data] : data) writeAll(fd, part, check);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    removeQuietly(temp);
    throw error;
  }
  fs.closeSync(fd);
  return { temp, check };
}

/** Size and CRC-32 of a file as it is on disk, read in 16 MiB chunks (a ~GB feature file is not held twice). */
function checkFile(file: string): FileCheck {
  const check: FileCheck = { bytes: 0, crc32: 0 };
  const chunk = Buffer.allocUnsafe(16 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let got = fs.readSync(fd, chunk); got > 0; got = fs.readSync(fd, chunk)) {
      check.bytes += got;
      check.crc32 = zlib.crc32(chunk.subarray(0, got), check.crc32);
    }
  } finally {
    fs.closeSync(fd);
  }
  return check;
}

/** Flushes a directory entry change (rename) to disk; not supported everywhere, so failures are ignored. */
export function fsyncDir(dir: string): void {
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
  const { temp } = stageFile(filePath, data);
  try {
    fs.renameSync(temp, filePath);
  } catch (error) {
    removeQuietly(temp);
    throw error;
  }
  fsyncDir(path.dirname(filePath));
}

/**
 * The swap deletes whatever the old directory held, so it only replaces an empty directory or an
 * earlier output: one with the completion marker, or holding a file of the same name (outputs of
 * older versions had no marker). `--out ~` must not wipe a home directory.
 */
function refuseForeignDirectory(dir: string, names: string[]): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new ConfigError(`${dir}: exists and is not a directory`);
  const present = fs.readdirSync(dir);
  if (present.length === 0 || present.includes(COMPLETE_MARKER) || names.some((name) => present.includes(name))) return;
  throw new ConfigError(`${dir}: refusing to replace a non-empty directory that vasg did not write (it holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}); choose another output directory`);
}

/**
 * Checks, before any work starts, that `dir` can be written as a whole by `writeDirectoryAtomic`
 * later: not a foreign directory (`signature` is a file every earlier output holds), and a sibling
 * directory can be created beside it. Minutes of training are not lost to a bad --out.
 */
export function checkOutputDirectory(dir: string, signature: string): void {
  const parent = path.dirname(path.resolve(dir));
  try {
    fs.mkdirSync(parent, { recursive: true });
    fs.rmdirSync(fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}.probe-`)));
  } catch (error) {
    throw new ConfigError(`${dir}: cannot write an output directory here (${(error as Error).message})`);
  }
  recoverDirectory(dir);
  refuseForeignDirectory(dir, [signature]);
}

/**
 * Written last into a staged directory: its presence says every other file there is complete, and it
 * lists each file's size and CRC-32 so that a load can refuse a directory mixing two versions or holding
 * a damaged file. (Outputs of vasg before the checks have an empty marker.)
 */
const COMPLETE_MARKER = '.vasg-complete';
const MARKER_FORMAT = 'vasg-complete';

interface Marker {
  format: typeof MARKER_FORMAT;
  files: Record<string, FileCheck>;
}

/** Test hook: VASG_FAULT_AFTER_RENAME=N kills the process right after the N-th rename of a directory swap. */
let renamesDone = 0;
function renameWithFaultHook(from: string, to: string): void {
  fs.renameSync(from, to);
  renamesDone += 1;
  if (Number(process.env.VASG_FAULT_AFTER_RENAME) === renamesDone) process.kill(process.pid, 'SIGKILL');
}

/** Siblings `.<name>.<kind>-…` of `dir` left by directory swaps, newest first. */
function swapSiblings(dir: string, kind: 'tmp' | 'old'): string[] {
  const parent = path.dirname(dir);
  const prefix = `.${path.basename(dir)}.${kind}-`;
  if (!fs.existsSync(parent)) return [];
  return fs.readdirSync(parent).filter((name) => name.startsWith(prefix)).map((name) => path.join(parent, name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

/**
 * Finishes or undoes a directory swap that a crash interrupted, and removes what such crashes left
 * behind. With `dir` missing, a complete staged directory is rolled forward, otherwise the previous
 * directory is put back. Readers call this before reading, writers before writing.
 */
export function recoverDirectory(dir: string): void {
  if (!fs.existsSync(dir)) {
    const staged = swapSiblings(dir, 'tmp').find((d) => fs.existsSync(path.join(d, COMPLETE_MARKER)));
    const previous = swapSiblings(dir, 'old')[0];
    const restore = staged ?? previous;
    if (restore) fs.renameSync(restore, dir);
  }
  if (fs.existsSync(dir)) {
    for (const litter of [...swapSiblings(dir, 'tmp'), ...swapSiblings(dir, 'old')]) fs.rmSync(litter, { recursive: true, force: true });
  }
}

/** An entry's contents; a refusal by its producer (e.g. a non-finite array) names the file. */
function produce(dir: string, name: string, data: FileData | (() => FileData)): FileData {
  if (typeof data !== 'function') return data;
  try {
    return data();
  } catch (error) {
    throw new ConfigError(`${path.join(dir, name)}: not saved, nothing in ${dir} was changed: ${(error as Error).message}`);
  }
}

/**
 * Replaces the directory `dir` as a whole or not at all: every file is written into a fresh sibling
 * directory and fsynced, a completion marker with every file's check last, then two renames swap it in
 * (the old directory aside, the new one into place) and the old one is deleted. A crash at any point
 * leaves either the old or the new directory under `dir` once `recoverDirectory` has run — never a mix,
 * never stale files of an older version. Entries are produced lazily, one at a time, so large contents
 * need not all be in memory at once.
 */
export function writeDirectoryAtomic(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): void {
  recoverDirectory(dir);
  refuseForeignDirectory(dir, files.map(([name]) => name));
  swapInStaged(dir, (staged, checks) => {
    for (const [name, data] of files) checks[name] = stageInto(staged, name, produce(dir, name, data));
  });
}

/**
 * Replaces some files of a directory written by `writeDirectoryAtomic`, with the same all-or-nothing
 * swap: the other files are hard-linked into the staged copy (no bytes copied, so rewriting one small
 * file of a model with GB of arrays is cheap) and keep their recorded checks.
 */
export function updateDirectoryAtomic(dir: string, files: Array<[name: string, data: FileData]>): void {
  recoverDirectory(dir);
  const recorded = readMarker(dir)?.files ?? {};
  const replaced = new Set(files.map(([name]) => name));
  swapInStaged(dir, (staged, checks) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name === COMPLETE_MARKER || replaced.has(entry.name)) continue;
      linkOrCopy(path.join(dir, entry.name), path.join(staged, entry.name));
      checks[entry.name] = recorded[entry.name] ?? checkFile(path.join(staged, entry.name));
    }
    for (const [name, data] of files) checks[name] = stageInto(staged, name, data);
  });
}

/** Loads call this: finishes an interrupted swap, then refuses a directory whose files differ from its marker's checks. */
export function openWrittenDirectory(dir: string): void {
  recoverDirectory(dir);
  verifyDirectory(dir);
}

/**
 * Every file the marker lists must be there with its recorded size and CRC-32. Files it does not list
 * (e.g. the server's write log) are not checked; a directory without a marker predates the checks.
 */
function verifyDirectory(dir: string): void {
  const marker = readMarker(dir);
  if (!marker) return;
  for (const [name, expected] of Object.entries(marker.files)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw integrityError(dir, file, 'is missing');
    const bytes = fs.statSync(file).size;
    if (bytes !== expected.bytes) throw integrityError(dir, file, `has ${bytes} bytes, ${expected.bytes} were written`);
    const { crc32 } = checkFile(file);
    if (crc32 !== expected.crc32) throw integrityError(dir, file, `has CRC-32 ${hex(crc32)}, ${hex(expected.crc32)} was written`);
  }
}

function integrityError(dir: string, file: string, what: string): InputError {
  return new InputError(`${file}: ${what} (see ${COMPLETE_MARKER}): ${dir} mixes files of two versions or one was damaged or edited; ` +
    `write it again (or, if you changed the file on purpose, delete ${path.join(dir, COMPLETE_MARKER)})`, file);
}

const hex = (crc: number) => crc.toString(16).padStart(8, '0');

/** The marker's checks; undefined without a marker or for the empty marker of older versions. */
function readMarker(dir: string): Marker | undefined {
  const file = path.join(dir, COMPLETE_MARKER);
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  if (text.length === 0) return undefined;
  let marker: Marker;
  try {
    marker = JSON.parse(text) as Marker;
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message}); ${dir} is damaged, write it again`, file);
  }
  if (marker?.format !== MARKER_FORMAT || typeof marker.files !== 'object' || marker.files === null) {
    throw new InputError(`${file}: expected {"format": "${MARKER_FORMAT}", "files": {…}}; ${dir} is damaged, write it again`, file);
  }
  return marker;
}

/** Writes one file into the staged directory (temp file, fsync, rename) and returns its check. */
function stageInto(staged: string, name: string, data: FileData): FileCheck {
  const { temp, check } = stageFile(path.join(staged, name), data);
  fs.renameSync(temp, path.join(staged, name));
  return check;
}

/** A hard link where the filesystem has them (instant, same bytes), a copy elsewhere. */
function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/**
 * Builds a fresh sibling of `dir` with `fill` (which records each file's check), commits it with the
 * marker, and swaps it in with two renames; a failure before the swap removes the sibling and leaves `dir` as it was.
 */
function swapInStaged(dir: string, fill: (staged: string, checks: Record<string, FileCheck>) => void): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const suffix = `${process.pid}-${Date.now().toString(36)}-${++tempCounter}`;
  const staged = path.join(parent, `.${path.basename(dir)}.tmp-${suffix}`);
  fs.mkdirSync(staged);
  try {
    const checks: Record<string, FileCheck> = {};
    fill(staged, checks);
    const marker: Marker = { format: MARKER_FORMAT, files: checks };
    stageInto(staged, COMPLETE_MARKER, JSON.stringify(marker, null, 1));
    fsyncDir(staged);
  } catch (error) {
    fs.rmSync(staged, { recursive: true, force: true });
    throw error;
  }
  const previous = path.join(parent, `.${path.basename(dir)}.old-${suffix}`);
  const hadPrevious = fs.existsSync(dir);
  if (hadPrevious) renameWithFaultHook(dir, previous);
  renameWithFaultHook(staged, dir);
  fsyncDir(parent);
  if (hadPrevious) fs.rmSync(previous, { recursive: true, force: true });
}

/** One fresh buffer per entry (its own ArrayBuffer, so it can be transferred to a worker): a copy of the contents now. */
function snapshot(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): Array<[string, Uint8Array]> {
  return files.map(([name, data]) => {
    const produced = produce(dir, name, data);
    // Each part is copied as it comes: a generator may refill one buffer for its next part (see FileData).
    const parts: Uint8Array[] = [];
    for (const part of typeof produced === 'string' || ArrayBuffer.isView(produced) ? [produced] : produced) {
      parts.push(typeof part === 'string' ? Buffer.from(part, 'utf8') : new Uint8Array(part.buffer, part.byteOffset, part.byteLength).slice());
    }
    const bytes = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    return [name, bytes];
  });
}

/**
 * `writeDirectoryAtomic` on a worker thread, so the event loop keeps running while the files are written
 * and fsynced. The contents are copied before this returns: later changes to the caller's arrays do not
 * reach the directory.
 */
export function writeDirectoryAtomicOffThread(dir: string, files: Array<[name: string, data: FileData | (() => FileData)]>): Promise<void> {
  const copies = snapshot(dir, files);
  const worker = new Worker(new URL('./atomic-worker.js', import.meta.url), {
    workerData: { dir, files: copies },
    transferList: copies.map(([, bytes]) => bytes.buffer as ArrayBuffer),
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { error?: string }) => (message.error === undefined ? resolve() : reject(new Error(message.error))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the directory writer stopped with code ${code} before finishing ${dir}`)));
  });
}
