// The service's write-ahead log: one framed record per acknowledged write (new products, availability,
// user events), fsync'd before the HTTP answer goes out. Frame: u32 length, u32 CRC-32 of the payload,
// JSON payload. A record cut short by a crash (kill -9 mid-write) or with a wrong checksum ends the log:
// it and anything after it were never acknowledged, so replay drops them and truncates the file there.
import fs from 'node:fs';
import zlib from 'node:zlib';

const HEADER = 8;

export class WriteLog {
  private fd: number;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
  }

  /** Reads every intact record, truncating a torn tail. Returns the records in write order. */
  static replay(file: string): unknown[] {
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
    if (offset < bytes.length) fs.truncateSync(file, offset);
    return records;
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
  }

  /** Empties the log once its records are compacted into the model directory. */
  clear(): void {
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
