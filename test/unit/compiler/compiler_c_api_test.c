/* The compiler C API (tessera/Compiler.h) used from C, with the runtime C
 * API running what it compiles. Usage: tessera-compiler-c-api-test WORKDIR */
#include "tessera/Compiler.h"
#include "tessera/Runtime.h"

#include "../c_check.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* y = relu(x @ w) with w = [[1, 2], [3, 4], [5, 6]]. */
static const char *kModel =
    "func.func @main(%x: tensor<2x3xf32> {tessera.name = \"x\"}) ->\n"
    "    (tensor<2x2xf32> {tessera.name = \"y\"}) {\n"
    "  %w = tessera.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> :"
    " tensor<3x2xf32> loc(\"w\")\n"
    "  %m = tessera.matmul %x, %w : tensor<2x3xf32>, tensor<3x2xf32> ->"
    " tensor<2x2xf32>\n"
    "  %y = tessera.relu %m : tensor<2x2xf32>\n"
    "  return %y : tensor<2x2xf32>\n"
    "}\n";

/* The same with an unknown op on line 3, column 8. */
static const char *kBadModel =
    "func.func @main(%x: tensor<2xf32> {tessera.name = \"x\"}) ->\n"
    "    (tensor<2xf32> {tessera.name = \"y\"}) {\n"
    "  %0 = tessera.no_such_op %x : tensor<2xf32>\n"
    "  return %0 : tensor<2xf32>\n"
    "}\n";

typedef struct {
  int errors, remarks, located;
  unsigned line, column;
  char file[256];
  char first_error[512];
} diag_log;

static void record(const tsc_diagnostic *d, void *user) {
  diag_log *log = (diag_log *)user;
  if (d->severity == TSC_SEVERITY_REMARK)
    ++log->remarks;
  if (d->severity != TSC_SEVERITY_ERROR)
    return;
  if (log->errors++ == 0)
    snprintf(log->first_error, sizeof log->first_error, "%s", d->message);
  if (d->file && !log->located) {
    log->located = 1;
    snprintf(log->file, sizeof log->file, "%s", d->file);
    log->line = d->line;
    log->column = d->column;
  }
}

static tsc_session *make_session(const char *const *kv) {
  tsc_options *o = NULL;
  tsc_session *s = NULL;
  tsc_error *e = tsc_options_create(&o);
  for (; !e && kv && kv[0]; kv += 2)
    e = tsc_options_set(o, kv[0], kv[1]);
  if (!e)
    e = tsc_session_create(o, &s);
  if (e) {
    fprintf(stderr, "session: %s\n", tsc_error_message(e));
    tsc_error_free(e);
  }
  tsc_options_free(o);
  return s;
}

/* Loads the artifact bytes, runs them on x and compares with relu(x @ w). */
static int run_and_check(const void *bytes, size_t size) {
  static const float w[3][2] = {{1, 2}, {3, 4}, {5, 6}};
  float x[2][3] = {{1, -2, 0.5f}, {-1, -1, -1}};
  float y[2][2];
  int64_t xs[2] = {2, 3}, ys[2] = {2, 2};
  tsr_tensor in, out;
  tsr_model *m = NULL;
  tsr_error *e = tsr_model_load_memory(bytes, size, &m);
  int i, j, k, ok = 1;
  if (e) {
    fprintf(stderr, "load: %s\n", tsr_error_message(e));
    tsr_error_free(e);
    return 0;
  }
  F32_TENSOR(in, "x", 2, xs, x, sizeof x);
  F32_TENSOR(out, "y", 2, ys, y, sizeof y);
  e = tsr_model_run(m, &in, 1, &out, 1);
  if (e) {
    fprintf(stderr, "run: %s\n", tsr_error_message(e));
    tsr_error_free(e);
    ok = 0;
  }
  for (i = 0; ok && i < 2; ++i)
    for (j = 0; j < 2; ++j) {
      float ref = 0;
      for (k = 0; k < 3; ++k)
        ref += x[i][k] * w[k][j];
      if (ref < 0)
        ref = 0;
      if (fabsf(y[i][j] - ref) > 1e-5f) {
        fprintf(stderr, "y[%d][%d] = %g, expected %g\n", i, j, y[i][j], ref);
        ok = 0;
      }
    }
  tsr_model_free(m);
  return ok;
}

static char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)malloc(n > 0 ? (size_t)n : 1);
  *size = fread(buf, 1, (size_t)n, f);
  fclose(f);
  return buf;
}

static void *compile_in_thread(void *arg) {
  int *ok = (int *)arg;
  tsc_session *s = make_session(NULL);
  tsc_output *a = NULL;
  tsc_error *e = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir",
                                    "thread.mlir", &a);
  *ok = !e && run_and_check(tsc_output_data(a), tsc_output_size(a));
  tsc_error_free(e);
  tsc_output_free(a);
  tsc_session_free(s);
  return NULL;
}

int main(int argc, char **argv) {
  char path[1024], artifact[1024];
  tsc_options *o = NULL;
  tsc_session *s = NULL;
  tsc_output *a = NULL;
  tsc_error *e;
  diag_log log;
  size_t i, n;
  FILE *f;
  if (argc != 2) {
    fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
    return 2;
  }

  /* Versions and the option list. */
  CHECK(tsc_api_version() == TSC_API_VERSION);
  CHECK(strlen(tsc_version_string()) > 0);
  CHECK(strstr(tsc_supported_ops(), "| MatMul") != NULL);
  for (n = 0; tsc_option_name(n); ++n)
    CHECK(tsc_option_help(n) && strlen(tsc_option_help(n)) > 0);
  CHECK(n > 20);
  CHECK(tsc_option_help(n) == NULL);

  /* Option errors name the option and what is wrong. */
  CHECK(tsc_options_create(&o) == NULL);
  e = tsc_options_set(o, "no-such-option", "1");
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_OPTION);
  CHECK(strstr(tsc_error_message(e), "unknown option 'no-such-option'") != NULL);
  CHECK(strstr(tsc_error_message(e), "memory-budget") != NULL);
  tsc_error_free(e);
  e = tsc_options_set(o, "opt-level", "9");
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_OPTION);
  CHECK(strstr(tsc_error_message(e), "option 'opt-level': '9'") != NULL);
  tsc_error_free(e);
  e = tsc_options_set(o, "derive", "maybe");
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_OPTION);
  tsc_error_free(e);
  e = tsc_options_set(o, "input-shape", "x=2xq");
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_OPTION);
  tsc_error_free(e);
  e = tsc_options_set(NULL, "target", "cpu");
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_ARGUMENT);
  tsc_error_free(e);
  /* A combination is checked when the session is made. */
  CHECK(tsc_options_set(o, "loss", "cross-entropy") == NULL);
  e = tsc_session_create(o, &s);
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_OPTION && s == NULL);
  CHECK(strstr(tsc_error_message(e), "need --train") != NULL);
  tsc_error_free(e);
  tsc_options_free(o);
  o = NULL;

  /* Compile from memory into memory, then load and run it. */
  {
    const char *kv[] = {"verbose", "1", NULL};
    s = make_session(kv);
  }
  CHECK(s != NULL);
  memset(&log, 0, sizeof log);
  tsc_session_set_diagnostic_handler(s, record, &log);
  e = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir", "model.mlir", &a);
  CHECK(e == NULL);
  if (e)
    fprintf(stderr, "compile: %s\n", tsc_error_message(e));
  tsc_error_free(e);
  CHECK(log.errors == 0);
  CHECK(log.remarks >= 4); /* progress and timing of each stage */
  CHECK(a && tsc_output_size(a) > 64);
  CHECK(a && memcmp(tsc_output_data(a), "TESSERA", 7) == 0);
  CHECK(a && tsc_output_compile_seconds(a) > 0);
  CHECK(a && run_and_check(tsc_output_data(a), tsc_output_size(a)));

  /* The bytes written to disk load the same. */
  snprintf(artifact, sizeof artifact, "%s/c-api.tsr", argv[1]);
  CHECK(tsc_output_write(a, artifact) == NULL);
  tsc_output_free(a);
  a = NULL;
  {
    size_t size = 0;
    char *bytes = read_file(artifact, &size);
    CHECK(bytes && run_and_check(bytes, size));
    free(bytes);
  }
  e = tsc_output_write(NULL, artifact);
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_ARGUMENT);
  tsc_error_free(e);
  tsc_session_free(s);

  /* A syntax error: a located diagnostic through the callback and in the
   * returned error; nothing is produced. */
  s = make_session(NULL);
  memset(&log, 0, sizeof log);
  tsc_session_set_diagnostic_handler(s, record, &log);
  e = tsc_compile_buffer(s, kBadModel, strlen(kBadModel), "bad.mlir", "bad.mlir",
                         &a);
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_ARGUMENT); /* format "bad.mlir" */
  tsc_error_free(e);
  e = tsc_compile_buffer(s, kBadModel, strlen(kBadModel), "mlir", "bad.mlir", &a);
  CHECK(tsc_error_code(e) == TSC_ERR_COMPILE);
  CHECK(a == NULL);
  CHECK(log.errors >= 1 && log.remarks == 0);
  CHECK(log.located && strcmp(log.file, "bad.mlir") == 0);
  CHECK(log.line == 3 && log.column == 8);
  CHECK(strstr(log.first_error, "tessera.no_such_op") != NULL);
  CHECK(strstr(tsc_error_message(e), "bad.mlir:3:8: error: ") != NULL);
  tsc_error_free(e);
  /* Garbage given as ONNX is an error too, not a crash. */
  e = tsc_compile_buffer(s, "not a model", 11, "onnx", NULL, &a);
  CHECK(tsc_error_code(e) == TSC_ERR_COMPILE && a == NULL);
  CHECK(strstr(tsc_error_message(e), "not a valid ONNX model") != NULL);
  tsc_error_free(e);
  /* A file that does not exist. */
  e = tsc_compile_file(s, "/nonexistent/model.onnx", &a);
  CHECK(tsc_error_code(e) == TSC_ERR_IO && a == NULL);
  CHECK(strstr(tsc_error_message(e), "/nonexistent/model.onnx") != NULL);
  tsc_error_free(e);
  /* A directory, and an artifact sent to stdout. */
  e = tsc_compile_file(s, argv[1], &a);
  CHECK(tsc_error_code(e) == TSC_ERR_IO && a == NULL);
  CHECK(strstr(tsc_error_message(e), "it is a directory") != NULL);
  tsc_error_free(e);
  e = tsc_compile_file_to_path(s, argv[1], "-");
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_ARGUMENT);
  tsc_error_free(e);
  /* An output that cannot be written. */
  {
    char bad_out[1100];
    snprintf(bad_out, sizeof bad_out, "%s/no-such-dir/x.tsr", argv[1]);
    snprintf(path, sizeof path, "%s/c-api-model.mlir", argv[1]);
    f = fopen(path, "w");
    if (f) {
      fputs(kModel, f);
      fclose(f);
    }
    e = tsc_compile_file_to_path(s, path, bad_out);
    CHECK(tsc_error_code(e) == TSC_ERR_IO);
    CHECK(strstr(tsc_error_message(e), "error: ") != NULL);
    tsc_error_free(e);
  }
  tsc_session_free(s);

  /* From a file: to memory with an IR emit, and onto disk. */
  snprintf(path, sizeof path, "%s/c-api-model.mlir", argv[1]);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(kModel, f);
    fclose(f);
  }
  {
    const char *kv[] = {"emit", "linalg", NULL};
    s = make_session(kv);
  }
  e = tsc_compile_file(s, path, &a);
  CHECK(e == NULL);
  tsc_error_free(e);
  CHECK(a && strstr((const char *)tsc_output_data(a), "linalg.") != NULL);
  tsc_output_free(a);
  a = NULL;
  tsc_session_free(s);
  s = make_session(NULL);
  remove(artifact);
  CHECK(tsc_compile_file_to_path(s, path, artifact) == NULL);
  {
    size_t size = 0;
    char *bytes = read_file(artifact, &size);
    CHECK(bytes && run_and_check(bytes, size));
    free(bytes);
  }
  tsc_session_free(s);

  /* The option families through the API: derivation (same
   * numbers), a mesh with an inline sharding spec (a partitioned artifact),
   * a training step under a memory budget. */
  {
    const char *derive[] = {"derive", "1", "derive-time-budget", "5", NULL};
    const char *mesh[] = {"mesh", "data=2", "shard-spec",
                          "{\"x\": \"[{data}, {}]\"}", NULL};
    const char *train[] = {"train", "1", "optimizer", "sgd", "memory-budget",
                           "100%", NULL};
    tsr_model *m = NULL;
    s = make_session(derive);
    e = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir", NULL, &a);
    CHECK(e == NULL && a && run_and_check(tsc_output_data(a), tsc_output_size(a)));
    tsc_error_free(e);
    tsc_output_free(a);
    a = NULL;
    tsc_session_free(s);

    s = make_session(mesh);
    e = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir", NULL, &a);
    CHECK(e == NULL && a);
    if (e)
      fprintf(stderr, "mesh: %s\n", tsc_error_message(e));
    tsc_error_free(e);
    if (a) {
      tsr_error *le = tsr_model_load_memory(tsc_output_data(a),
                                            tsc_output_size(a), &m);
      CHECK(le == NULL && tsr_model_num_devices(m) == 2);
      CHECK(strstr(tsr_model_manifest_json(m), "\"mesh\"") != NULL);
      tsr_error_free(le);
      tsr_model_free(m);
      m = NULL;
    }
    tsc_output_free(a);
    a = NULL;
    tsc_session_free(s);

    s = make_session(train);
    e = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir", NULL, &a);
    if (e)
      fprintf(stderr, "train: %s\n", tsc_error_message(e));
    CHECK(e == NULL && a);
    tsc_error_free(e);
    if (a) {
      tsr_error *le = tsr_model_load_memory(tsc_output_data(a),
                                            tsc_output_size(a), &m);
      CHECK(le == NULL);
      /* loss and the updated weight w */
      CHECK(tsr_model_num_outputs(m) == 2);
      CHECK(tsr_model_tensor_index(m, TSR_ROLE_OUTPUT, "loss") >= 0);
      tsr_error_free(le);
      tsr_model_free(m);
    }
    tsc_output_free(a);
    a = NULL;
    tsc_session_free(s);
  }

  /* Pipelines compile to directories only. */
  {
    const char *kv[] = {"pipeline-stages", "2", NULL};
    s = make_session(kv);
  }
  e = tsc_compile_buffer(s, kModel, strlen(kModel), "mlir", NULL, &a);
  CHECK(tsc_error_code(e) == TSC_ERR_INVALID_OPTION && a == NULL);
  CHECK(strstr(tsc_error_message(e), "tsc_compile_file_to_path") != NULL);
  tsc_error_free(e);
  tsc_session_free(s);

  /* Two threads, each with its own session. */
  {
    pthread_t t[2];
    int ok[2] = {0, 0};
    for (i = 0; i < 2; ++i)
      pthread_create(&t[i], NULL, compile_in_thread, &ok[i]);
    for (i = 0; i < 2; ++i)
      pthread_join(t[i], NULL);
    CHECK(ok[0] && ok[1]);
  }

  if (failures)
    fprintf(stderr, "%d checks failed\n", failures);
  else
    printf("compiler C API: all checks passed\n");
  return failures ? 1 : 0;
}
