// Entry point of the native core: exports only. Each module registers its own functions.
#include <napi.h>
#include "blas.h"
#include "half.h"
#include "linalg.h"
#include "lock.h"
#include "memory.h"
#include "mlp.h"
#include "score.h"
#include "skipgram.h"
#include "walks.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  vasg::InitBlas(env, exports);
  vasg::InitLinalg(env, exports);
  vasg::InitHalf(env, exports);
  vasg::InitWalks(env, exports);
  vasg::InitSkipgram(env, exports);
  vasg::InitMlp(env, exports);
  vasg::InitScore(env, exports);
  vasg::InitLock(env, exports);
  vasg::InitMemory(env, exports);
  return exports;
}

NODE_API_MODULE(vasg_native, Init)
