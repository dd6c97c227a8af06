#include "lock.h"
#include <sys/file.h>
#include <cerrno>
#include <cstring>
#include <string>

namespace vasg {

static Napi::Value TryLockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "fd must be a number");
  const double value = info[0].As<Napi::Number>().DoubleValue();
  if (value < 0 || value != static_cast<double>(static_cast<int>(value))) throw Napi::TypeError::New(env, "fd must be an integer >= 0");
  int rc;
  do {
    rc = flock(static_cast<int>(value), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  throw Napi::Error::New(env, std::string("flock: ") + std::strerror(errno));
}

void InitLock(Napi::Env env, Napi::Object exports) {
  exports.Set("tryLockFile", Napi::Function::New(env, TryLockFile));
}

}  // namespace vasg
