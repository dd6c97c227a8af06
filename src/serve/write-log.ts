// The service's write-ahead log: one framed record per acknowledged write (new products, availability,
// user events), fsync'd before the HTTP answer goes out. Frame: u32 length, u32 CRC-32 of the payload,
// JSON payload. A record cut short by a crash (kill -9 mid-write) or with a wrong checksum ends the log:
// it and anything after it were never acknowledged, so replay drops them and truncates the file there.
//
// Compaction while serving rotates the log: the file is renamed to `FILE.compacting` (the records the
// compaction is folding into the model directory) and a fresh FILE takes the writes that arrive meanwhile.
// Replay reads FILE.compacting, then FILE: the records in write order.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fsyncDir } from '../data/atomic.js';

const HEADER = 8;

export class WriteLog {
  private fd: number;
  /** Bytes in the current file (records since the last rotation or clear). */
  bytes: number;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
    this.bytes = fs.fstatSync(this.fd).size;
  }

  /** The file that holds the records of a compaction in progress. */
  static rotatedFile(file: string): string {
    return `${file}.compacting`;
  }

  /** Reads every intact record of a log and of its rotated part, older first, truncating a torn tail. */
  static replay(file: string): unknown[] {
    return [...readRecords(WriteLog.rotatedFile(file)), ...readRecords(file)];
  }

  /** As `replay`, but never changes the files: for readers beside a running server, whose last record may be half written. */
  static read(file: string): unknown[] {
    return [...readRecords(WriteLog.rotatedFile(file), false), ...readRecords(file, false)];
  }

  /** Appends one record and waits until it is on disk. */
  append(record: unknown): void {
    const payload = Buffer.from(JSON.stringify(record), 'utf8');
    const frame = Buffer.alloc(HEADER + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(zlib.crc32(payload), 4);
    payload.copy(frame, HEADER);
    fs.writeSync(this.fd, frame);
    fs.fsyncSync(this.fd);
    this.bytes += frame.length;
  }

  /**
   * Starts a compaction: the records so far move to FILE.compacting and later ones go to a fresh FILE.
   * Both names are on disk (directory fsync'd) before the next write can be acknowledged.
   */
  rotate(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.file, WriteLog.rotatedFile(this.file));
    this.fd = fs.openSync(this.file, 'a');
    this.bytes = 0;
    fsyncDir(path.dirname(this.file));
  }

  /** Ends a compaction once the model directory holds the rotated records. */
  dropRotated(): void {
    fs.rmSync(WriteLog.rotatedFile(this.file), { force: true });
    fsyncDir(path.dirname(this.file));
  }

  /** Empties the log (and its rotated part) once every record is compacted into the model directory. */
  clear(): void {
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.bytes = 0;
    this.dropRotated();
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function readRecords(file: string, truncate = true): unknown[] {
  if (!fs.existsSync(file)) return [];
  const bytes = fs.readFileSync(file);
  const records: unknown[] = [];
  let offset = 0;
  while (offset + HEADER <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    const crc = bytes.readUInt32LE(offset + 4);
    const end = offset + HEADER + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(offset + HEADER, end);
    if (zlib.crc32(payload) !== crc) break;
    records.push(JSON.parse(payload.toString('utf8')));
    offset = end;
  }
  if (truncate && offset < bytes.length) fs.truncateSync(file, offset);
  return records;
}
