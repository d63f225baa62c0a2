/*===- test/unit/runtime/c_api_test.c - The runtime API used from C -------===*
 *
 * Compiled as C to prove tessera/Runtime.h is plain C. Loads the test model
 * written by tessera-make-test-artifact (see ArtifactWriterForTest.h), checks
 * its signature, runs it and checks the numbers and one error.
 * Usage: tessera-runtime-c-api-test MODEL.tsr
 *===----------------------------------------------------------------------===*/
#include "tessera/Runtime.h"

#include "../c_check.h"

#include <stdio.h>
#include <string.h>


int main(int argc, char **argv) {
  tsr_model *model = NULL;
  tsr_error *err;
  float x[6] = {0.5f, 1.0f, 1.5f, -2.0f, 2.5f, 3.0f};
  int32_t b[3] = {10, 20, -30};
  const float w[6] = {0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.5f};
  float y[6];
  double total = 0.0, want_total = 0.0;
  int64_t x_shape[2] = {2, 3}, b_shape[1] = {3}, bad_shape[2] = {3, 2};
  tsr_tensor inputs[2];
  tsr_tensor outputs[2];
  tsr_run_options opts;
  int i;

  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.tsr\n", argv[0]);
    return 2;
  }
  CHECK(tsr_runtime_api_version() == TSR_RUNTIME_API_VERSION);

  err = tsr_model_load_file(argv[1], &model);
  if (err) {
    fprintf(stderr, "load failed (%s): %s\n",
            tsr_code_name(tsr_error_code(err)), tsr_error_message(err));
    tsr_error_free(err);
    return 1;
  }
  CHECK(strcmp(tsr_model_target(model), "cpu") == 0);
  CHECK(tsr_model_num_inputs(model) == 2);
  CHECK(tsr_model_num_outputs(model) == 2);
  CHECK(strcmp(tsr_model_tensor_name(model, TSR_ROLE_INPUT, 0), "x") == 0);
  CHECK(tsr_model_tensor_dtype(model, TSR_ROLE_INPUT, 1) == TSR_DTYPE_I32);
  CHECK(strcmp(tsr_dtype_name(TSR_DTYPE_F32), "f32") == 0);
  CHECK(tsr_model_tensor_rank(model, TSR_ROLE_OUTPUT, 1) == 0);
  CHECK(tsr_model_tensor_byte_size(model, TSR_ROLE_OUTPUT, 0) == 24);

  TSR_TENSOR(inputs[0], "x", TSR_DTYPE_F32, 2, x_shape, x, sizeof x);
  /* b by position */
  TSR_TENSOR(inputs[1], NULL, TSR_DTYPE_I32, 1, b_shape, b, sizeof b);
  TSR_TENSOR(outputs[0], "y", TSR_DTYPE_F32, 2, x_shape, y, sizeof y);
  TSR_TENSOR(outputs[1], "total", TSR_DTYPE_F64, 0, NULL, &total, sizeof total);

  err = tsr_model_run(model, inputs, 2, outputs, 2);
  if (err) {
    fprintf(stderr, "run failed: %s\n", tsr_error_message(err));
    tsr_error_free(err);
    ++failures;
  }
  for (i = 0; i < 6; ++i) {
    float want = x[i] * 2.0f + w[i] + (float)b[i % 3];
    CHECK(y[i] == want);
    want_total += want;
  }
  CHECK(total == want_total);

  /* Run options: defaults run as tsr_model_run; the CUDA-only ones are
   * refused on a CPU model, as is a struct of another size. */
  tsr_run_options_init(&opts);
  CHECK(opts.struct_size == sizeof opts && opts.cuda_stream == NULL &&
        opts.device_buffers == 0 && opts.asynchronous == 0);
  memset(y, 0, sizeof y);
  err = tsr_model_run_with_options(model, &opts, inputs, 2, outputs, 2);
  CHECK(err == NULL);
  tsr_error_free(err);
  CHECK(y[5] == x[5] * 2.0f + w[5] + (float)b[2]);
  opts.cuda_stream = &opts; /* any non-NULL stream */
  err = tsr_model_run_with_options(model, &opts, inputs, 2, outputs, 2);
  CHECK(tsr_error_code(err) == TSR_ERR_INVALID_ARGUMENT);
  CHECK(strstr(tsr_error_message(err), "apply to cuda artifacts; this model's "
                                       "target is 'cpu'") != NULL);
  tsr_error_free(err);
  opts.cuda_stream = NULL;
  opts.asynchronous = 1;
  err = tsr_model_run_with_options(model, &opts, inputs, 2, outputs, 2);
  CHECK(tsr_error_code(err) == TSR_ERR_INVALID_ARGUMENT);
  tsr_error_free(err);
  opts.asynchronous = 0;
  opts.struct_size = 8;
  err = tsr_model_run_with_options(model, &opts, inputs, 2, outputs, 2);
  CHECK(tsr_error_code(err) == TSR_ERR_INVALID_ARGUMENT);
  CHECK(strstr(tsr_error_message(err), "tsr_run_options_init") != NULL);
  tsr_error_free(err);

  inputs[0].shape = bad_shape;
  err = tsr_model_run(model, inputs, 2, outputs, 2);
  CHECK(tsr_error_code(err) == TSR_ERR_SHAPE_MISMATCH);
  CHECK(strstr(tsr_error_message(err),
               "input 'x': expected shape [2,3] (f32), got [3,2]") != NULL);
  tsr_error_free(err);

  tsr_model_free(model);
  if (failures == 0)
    printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
