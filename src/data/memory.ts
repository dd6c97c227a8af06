// Large arrays in transparent huge pages. A fresh multi-gigabyte typed array from V8 is zero-filled by the kernel
// 4 KiB at a time on first write, which on this project's virtual machines costs ≈ 3.5 s per GB (reading `men`'s
// 0.9 GB features.npy took 3.9 s, 0.3 s into huge pages). The few arrays the size of the feature matrix come from
// here; everything smaller stays with V8, where the difference does not show.
import { native } from '../native.js';

/** Below this size V8's own allocation is used (a huge page mapping would only waste its last partial page). */
const HUGE_MIN_BYTES = 64 << 20;

/** A zeroed ArrayBuffer of `bytes` bytes, in huge pages when large. */
function largeArrayBuffer(bytes: number): ArrayBuffer {
  return bytes >= HUGE_MIN_BYTES ? native.hugeBuffer(bytes) : new ArrayBuffer(bytes);
}

/** new Float32Array(length), in huge pages when large. */
export function largeFloat32Array(length: number): Float32Array {
  return new Float32Array(largeArrayBuffer(length * 4));
}

/** new Uint16Array(length) (float16 features), in huge pages when large. */
export function largeUint16Array(length: number): Uint16Array {
  return new Uint16Array(largeArrayBuffer(length * 2));
}

/** A zeroed Buffer of `bytes` bytes (Buffer.alloc), in huge pages when large. */
export function largeBuffer(bytes: number): Buffer {
  return Buffer.from(largeArrayBuffer(bytes));
}
