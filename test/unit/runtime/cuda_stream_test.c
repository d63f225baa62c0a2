/* tsr_run_options on a GPU: runs on a caller's CUDA stream, with host and
 * with device buffers, synchronous and asynchronous, checked against
 * y = relu(x @ w) + 1 computed here. Compiles its model with the compiler C
 * API (--target=cuda). Exits 77 (CTest: skipped) without a GPU and driver.
 *   tessera-cuda-stream-test */
#include "tessera/Compiler.h"
#include "tessera/Runtime.h"

#include "../c_check.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define N 64 /* x: N x K, w: K x M */
#define K 32
#define M 48

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef struct CUstream_st *CUstream;
typedef struct CUctx_st *CUcontext;

static struct {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*primaryCtxRetain)(CUcontext *, int);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*htod)(CUdeviceptr, const void *, size_t);
  CUresult (*dtoh)(void *, CUdeviceptr, size_t);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamSync)(CUstream);
  CUresult (*streamDestroy)(CUstream);
} cu;


static const char *kModel =
    "func.func @main(%x: tensor<64x32xf32> {tessera.name = \"x\"},\n"
    "                %w: tensor<32x48xf32> {tessera.name = \"w\"}) ->\n"
    "    (tensor<64x48xf32> {tessera.name = \"y\"}) {\n"
    "  %m = tessera.matmul %x, %w : tensor<64x32xf32>, tensor<32x48xf32> ->"
    " tensor<64x48xf32>\n"
    "  %r = tessera.relu %m : tensor<64x48xf32>\n"
    "  %one = tessera.constant dense<1.0> : tensor<64x48xf32>\n"
    "  %y = tessera.add %r, %one : tensor<64x48xf32>, tensor<64x48xf32> ->"
    " tensor<64x48xf32>\n"
    "  return %y : tensor<64x48xf32>\n"
    "}\n";

static float x[N * K], w[K * M], y[N * M], ref[N * M];

static void fill(float scale) {
  int i, j, k;
  for (i = 0; i < N * K; ++i)
    x[i] = scale * (float)((i * 7) % 13 - 6) / 6.0f;
  for (i = 0; i < K * M; ++i)
    w[i] = (float)((i * 5) % 11 - 5) / 10.0f;
  for (i = 0; i < N; ++i)
    for (j = 0; j < M; ++j) {
      float s = 0;
      for (k = 0; k < K; ++k)
        s += x[i * K + k] * w[k * M + j];
      ref[i * M + j] = (s > 0 ? s : 0) + 1.0f;
    }
}

static int matches(const float *got, const char *what) {
  int i;
  for (i = 0; i < N * M; ++i)
    if (fabsf(got[i] - ref[i]) > 1e-3f * (1.0f + fabsf(ref[i]))) {
      fprintf(stderr, "%s: y[%d] = %g, expected %g\n", what, i, got[i], ref[i]);
      return 0;
    }
  return 1;
}

/* x, w and y in host memory. */
static void bind_host(tsr_tensor *in, tsr_tensor *out) {
  static const int64_t xs[2] = {N, K}, ws[2] = {K, M}, ys[2] = {N, M};
  F32_TENSOR(in[0], "x", 2, xs, x, sizeof x);
  F32_TENSOR(in[1], "w", 2, ws, w, sizeof w);
  F32_TENSOR(out[0], "y", 2, ys, y, sizeof y);
}

static int skip(const char *why) {
  printf("skipped: %s\n", why);
  return 77;
}

int main(void) {
  static const int64_t xs[2] = {N, K}, ws[2] = {K, M}, ys[2] = {N, M};
  tsc_options *o = NULL;
  tsc_session *s = NULL;
  tsc_output *a = NULL;
  tsc_error *ce;
  tsr_model *model = NULL;
  tsr_error *e;
  tsr_tensor in[2], out[1];
  tsr_run_options opts;
  CUcontext ctx;
  CUstream s1 = NULL, s2 = NULL;
  CUdeviceptr dx = 0, dw = 0, dy = 0, dx2 = 0, dy2 = 0;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return skip("no CUDA driver (libcuda.so.1)");
#define SYM(field, name)                                                       \
  if (!(*(void **)&cu.field = dlsym(lib, name)))                               \
    return skip("libcuda lacks " name);
  SYM(init, "cuInit")
  SYM(deviceGetCount, "cuDeviceGetCount")
  SYM(primaryCtxRetain, "cuDevicePrimaryCtxRetain")
  SYM(ctxSetCurrent, "cuCtxSetCurrent")
  SYM(memAlloc, "cuMemAlloc_v2")
  SYM(memFree, "cuMemFree_v2")
  SYM(htod, "cuMemcpyHtoD_v2")
  SYM(dtoh, "cuMemcpyDtoH_v2")
  SYM(streamCreate, "cuStreamCreate")
  SYM(streamSync, "cuStreamSynchronize")
  SYM(streamDestroy, "cuStreamDestroy_v2")
  if (cu.init(0) != 0)
    return skip("cuInit failed (no GPU, or the stub driver)");
  {
    int count = 0;
    if (cu.deviceGetCount(&count) != 0 || count == 0)
      return skip("no CUDA device");
  }
  /* From here on there is a GPU: every failure is a failure. */

  /* The model, compiled for the GPU (its runtime uses device 0). */
  ce = tsc_options_create(&o);
  if (!ce)
    ce = tsc_options_set(o, "target", "cuda");
  if (!ce)
    ce = tsc_session_create(o, &s);
  if (!ce)
    ce = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir", "stream.mlir", &a);
  if (ce) {
    fprintf(stderr, "compile: %s\n", tsc_error_message(ce));
    return 1;
  }
  e = tsr_model_load_memory(tsc_output_data(a), tsc_output_size(a), &model);
  tsc_output_free(a);
  tsc_session_free(s);
  tsc_options_free(o);
  if (e) {
    fprintf(stderr, "load: %s\n", tsr_error_message(e));
    return 1;
  }

  /* 1. Plain run, host buffers (this also sets up the model's context). */
  fill(1.0f);
  bind_host(in, out);
  e = tsr_model_run(model, in, 2, out, 1);
  if (e)
    fprintf(stderr, "plain run: %s\n", tsr_error_message(e));
  CHECK(e == NULL);
  tsr_error_free(e);
  CHECK(matches(y, "plain run"));

  /* The runtime retained device 0's primary context; use it too. */
  CHECK(cu.primaryCtxRetain(&ctx, 0) == 0 && cu.ctxSetCurrent(ctx) == 0);
  CHECK(cu.streamCreate(&s1, 1) == 0 && cu.streamCreate(&s2, 1) == 0);

  /* 2. On a caller's stream, host buffers (synchronous). */
  fill(0.5f);
  memset(y, 0, sizeof y);
  tsr_run_options_init(&opts);
  opts.cuda_stream = s1;
  CHECK(tsr_model_run_with_options(model, &opts, in, 2, out, 1) == NULL);
  CHECK(matches(y, "caller stream, host buffers"));

  /* 3. Device buffers, asynchronous, then the caller synchronizes. */
  CHECK(cu.memAlloc(&dx, sizeof x) == 0 && cu.memAlloc(&dw, sizeof w) == 0 &&
        cu.memAlloc(&dy, sizeof y) == 0 && cu.memAlloc(&dx2, sizeof x) == 0 &&
        cu.memAlloc(&dy2, sizeof y) == 0);
  fill(2.0f);
  CHECK(cu.htod(dx, x, sizeof x) == 0 && cu.htod(dw, w, sizeof w) == 0);
  F32_TENSOR(in[0], "x", 2, xs, (void *)(size_t)dx, sizeof x);
  F32_TENSOR(in[1], "w", 2, ws, (void *)(size_t)dw, sizeof w);
  F32_TENSOR(out[0], "y", 2, ys, (void *)(size_t)dy, sizeof y);
  opts.device_buffers = 1;
  opts.asynchronous = 1;
  CHECK(tsr_model_run_with_options(model, &opts, in, 2, out, 1) == NULL);
  CHECK(cu.streamSync(s1) == 0);
  memset(y, 0, sizeof y);
  CHECK(cu.dtoh(y, dy, sizeof y) == 0);
  CHECK(matches(y, "device buffers, asynchronous"));

  /* 4. Two asynchronous runs on two streams with different inputs: the
   * second waits for the first (shared arena), each output is its own. */
  {
    static float ref1[N * M];
    fill(-1.0f);
    memcpy(ref1, ref, sizeof ref);
    CHECK(cu.htod(dx, x, sizeof x) == 0);
    fill(3.0f);
    CHECK(cu.htod(dx2, x, sizeof x) == 0);
    opts.cuda_stream = s1;
    CHECK(tsr_model_run_with_options(model, &opts, in, 2, out, 1) == NULL);
    in[0].data = (void *)(size_t)dx2;
    out[0].data = (void *)(size_t)dy2;
    opts.cuda_stream = s2;
    CHECK(tsr_model_run_with_options(model, &opts, in, 2, out, 1) == NULL);
    CHECK(cu.streamSync(s1) == 0 && cu.streamSync(s2) == 0);
    CHECK(cu.dtoh(y, dy2, sizeof y) == 0);
    CHECK(matches(y, "second of two streams"));
    CHECK(cu.dtoh(y, dy, sizeof y) == 0);
    memcpy(ref, ref1, sizeof ref);
    CHECK(matches(y, "first of two streams"));
  }

  /* 5. Device buffers on the model's own stream (synchronous); an
   * asynchronous run needs a stream to wait on. */
  fill(0.25f);
  CHECK(cu.htod(dx, x, sizeof x) == 0);
  in[0].data = (void *)(size_t)dx;
  out[0].data = (void *)(size_t)dy;
  tsr_run_options_init(&opts);
  opts.device_buffers = 1;
  CHECK(tsr_model_run_with_options(model, &opts, in, 2, out, 1) == NULL);
  memset(y, 0, sizeof y);
  CHECK(cu.dtoh(y, dy, sizeof y) == 0);
  CHECK(matches(y, "device buffers, the model's stream"));
  opts.asynchronous = 1;
  e = tsr_model_run_with_options(model, &opts, in, 2, out, 1);
  CHECK(tsr_error_code(e) == TSR_ERR_INVALID_ARGUMENT);
  tsr_error_free(e);

  /* 6. An asynchronous run, then at once a plain run without the caller
   * synchronizing: the plain run must wait for it (shared arena). */
  {
    static float ref1[N * M];
    fill(-2.0f);
    memcpy(ref1, ref, sizeof ref);
    CHECK(cu.htod(dx, x, sizeof x) == 0);
    opts.cuda_stream = s1;
    CHECK(tsr_model_run_with_options(model, &opts, in, 2, out, 1) == NULL);
    fill(0.75f);
    bind_host(in, out);
    CHECK(tsr_model_run(model, in, 2, out, 1) == NULL);
    CHECK(matches(y, "plain run right after an asynchronous one"));
    CHECK(cu.streamSync(s1) == 0);
    CHECK(cu.dtoh(y, dy, sizeof y) == 0);
    memcpy(ref, ref1, sizeof ref);
    CHECK(matches(y, "the asynchronous run before it"));
  }

  /* 7. Back to a plain run: the model's own buffers are intact. */
  fill(1.5f);
  bind_host(in, out);
  CHECK(tsr_model_run(model, in, 2, out, 1) == NULL);
  CHECK(matches(y, "plain run after stream runs"));

  cu.memFree(dx);
  cu.memFree(dw);
  cu.memFree(dy);
  cu.memFree(dx2);
  cu.memFree(dy2);
  cu.streamDestroy(s1);
  cu.streamDestroy(s2);
  tsr_model_free(model);
  if (failures)
    fprintf(stderr, "%d checks failed\n", failures);
  else
    printf("cuda stream runs: all checks passed\n");
  return failures ? 1 : 0;
}
