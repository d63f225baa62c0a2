/*===- test/unit/runtime/concurrent_run_test.c - Two threads, one model ---===*
 *
 * Two threads run one loaded model concurrently, each on its own inputs and
 * outputs, many times, and check every result against the test model's
 * formula (y = 2 x + w + b, total = sum y; see ArtifactWriterForTest.h).
 * Built with ThreadSanitizer (with the runtime's sources) as the CTest
 * runtime-concurrent-runs-tsan: a data race in the runtime fails it.
 * Usage: tessera-runtime-concurrency-test MODEL.tsr
 *===----------------------------------------------------------------------===*/
#include "tessera/Runtime.h"

#include "../c_tensor.h"

#include <pthread.h>
#include <stdio.h>

#define RUNS 300

static tsr_model *model = NULL;

struct job {
  int id;
  int failures;
};

static void *worker(void *arg) {
  struct job *job = (struct job *)arg;
  static const float w[6] = {0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.5f};
  int64_t x_shape[2] = {2, 3}, b_shape[1] = {3};
  float x[6], y[6];
  int32_t b[3];
  double total, want_total;
  tsr_tensor inputs[2], outputs[2];
  int run, i;

  for (run = 0; run < RUNS; ++run) {
    for (i = 0; i < 6; ++i)
      x[i] = (float)(job->id * 1000 + run) * 0.5f + (float)i;
    for (i = 0; i < 3; ++i)
      b[i] = job->id * 7 - run + i;
    TSR_TENSOR(inputs[0], "x", TSR_DTYPE_F32, 2, x_shape, x, sizeof x);
    TSR_TENSOR(inputs[1], "b", TSR_DTYPE_I32, 1, b_shape, b, sizeof b);
    TSR_TENSOR(outputs[0], "y", TSR_DTYPE_F32, 2, x_shape, y, sizeof y);
    TSR_TENSOR(outputs[1], "total", TSR_DTYPE_F64, 0, NULL, &total, sizeof total);
    {
      tsr_error *err = tsr_model_run(model, inputs, 2, outputs, 2);
      if (err) {
        fprintf(stderr, "thread %d run %d: %s\n", job->id, run,
                tsr_error_message(err));
        tsr_error_free(err);
        ++job->failures;
        continue;
      }
    }
    want_total = 0.0;
    for (i = 0; i < 6; ++i) {
      const float want = x[i] * 2.0f + w[i] + (float)b[i % 3];
      if (y[i] != want) {
        fprintf(stderr, "thread %d run %d: y[%d] = %g, expected %g\n", job->id,
                run, i, (double)y[i], (double)want);
        ++job->failures;
      }
      want_total += want;
    }
    if (total != want_total) {
      fprintf(stderr, "thread %d run %d: total = %g, expected %g\n", job->id,
              run, total, want_total);
      ++job->failures;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t threads[2];
  struct job jobs[2];
  tsr_error *err;
  int t, failures = 0;

  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.tsr\n", argv[0]);
    return 2;
  }
  err = tsr_model_load_file(argv[1], &model);
  if (err) {
    fprintf(stderr, "load failed: %s\n", tsr_error_message(err));
    tsr_error_free(err);
    return 1;
  }
  for (t = 0; t < 2; ++t) {
    jobs[t].id = t + 1;
    jobs[t].failures = 0;
    if (pthread_create(&threads[t], NULL, worker, &jobs[t]) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  for (t = 0; t < 2; ++t) {
    pthread_join(threads[t], NULL);
    failures += jobs[t].failures;
  }
  tsr_model_free(model);
  if (failures == 0)
    printf("concurrent_run_test: 2 threads x %d runs of one model, all "
           "results correct\n", RUNS);
  return failures == 0 ? 0 : 1;
}
