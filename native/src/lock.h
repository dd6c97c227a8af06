// Advisory whole-file locks (flock(2)) for the HTTP service's ownership of a model directory.
// Node 20 has no flock in its standard library; the kernel drops the lock when the process dies
// (kill -9 included), so a restart never waits for a stale lock.
#pragma once
#include <napi.h>

namespace vasg {
// [sync] tryLockFile(fd: number) → boolean
//   flock(fd, LOCK_EX | LOCK_NB): true when this open file now holds the exclusive lock, false when
//   another open file (this process or another) holds it. The lock lasts until the fd is closed.
//   Throws TypeError (fd not an integer ≥ 0), Error (any other flock failure, with errno's text).
void InitLock(Napi::Env env, Napi::Object exports);
}  // namespace vasg
