// Entry point of the native core: exports only. Each module registers its own functions.
#include <napi.h>
#include "blas.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  vasg::InitBlas(env, exports);
  return exports;
}

NODE_API_MODULE(vasg_native, Init)
