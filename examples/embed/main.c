/* embed: compiles an ONNX model with Tessera and runs it, from C.
 *
 *   embed MODEL.onnx [OPTION=VALUE ...]
 *
 * OPTIONs are tessera-compile's flags without the dashes (precision=bf16,
 * memory-budget=80%, derive=1, ...). Element i of input k is
 * ((i * 7 + k * 3) % 11 - 5) / 5; each output is printed as
 * "output NAME: v0 v1 ...". f32 inputs and outputs only. */
#include <tessera/Compiler.h>
#include <tessera/Runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prints each compiler message as tessera-compile would. */
static void print_diagnostic(const tsc_diagnostic *d, void *user_data) {
  char *line = tsc_diagnostic_format(d);
  (void)user_data;
  if (line)
    fputs(line, stderr);
  tsc_string_free(line);
}

/* Compiles `path` with `count` OPTION=VALUE settings into an artifact in
 * memory. Returns NULL after printing what went wrong. */
static tsc_output *compile_model(const char *path, char **settings, int count) {
  tsc_options *options = NULL;
  tsc_session *session = NULL;
  tsc_output *artifact = NULL;
  tsc_error *e = tsc_options_create(&options);
  int i;
  for (i = 0; !e && i < count; ++i) {
    char *eq = strchr(settings[i], '=');
    if (!eq) {
      fprintf(stderr, "embed: '%s' is not OPTION=VALUE\n", settings[i]);
      tsc_options_free(options);
      return NULL;
    }
    *eq = '\0';
    e = tsc_options_set(options, settings[i], eq + 1);
  }
  if (!e)
    e = tsc_session_create(options, &session);
  if (!e) {
    tsc_session_set_diagnostic_handler(session, print_diagnostic, NULL);
    e = tsc_compile_file(session, path, &artifact);
  }
  /* A compile error was printed by the handler; others are printed here. */
  if (e && tsc_error_code(e) != TSC_ERR_COMPILE)
    fprintf(stderr, "embed: %s\n", tsc_error_message(e));
  tsc_error_free(e);
  tsc_session_free(session);
  tsc_options_free(options);
  return artifact;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  tsr_model *model = NULL;
  tsr_tensor *inputs, *outputs;
  tsr_error *e;
  tsc_output *artifact;
  size_t k, i, num_in, num_out;
  double t0;
  int status = 1;

  if (argc < 2) {
    fprintf(stderr, "usage: embed MODEL.onnx [OPTION=VALUE ...]\n");
    return 2;
  }
  artifact = compile_model(argv[1], argv + 2, argc - 2);
  if (!artifact)
    return 1;
  printf("compiled %s: %zu bytes in %.3f s\n", argv[1],
         tsc_output_size(artifact), tsc_output_compile_seconds(artifact));
  e = tsr_model_load_memory(tsc_output_data(artifact),
                            tsc_output_size(artifact), &model);
  tsc_output_free(artifact);
  if (e) {
    fprintf(stderr, "embed: %s\n", tsr_error_message(e));
    tsr_error_free(e);
    return 1;
  }

  /* One buffer per input and output, shaped by the model's signature. */
  num_in = tsr_model_num_inputs(model);
  num_out = tsr_model_num_outputs(model);
  inputs = calloc(num_in + 1, sizeof *inputs);
  outputs = calloc(num_out + 1, sizeof *outputs);
  for (k = 0; k < num_in + num_out; ++k) {
    tsr_role role = k < num_in ? TSR_ROLE_INPUT : TSR_ROLE_OUTPUT;
    size_t index = k < num_in ? k : k - num_in;
    tsr_tensor *t = k < num_in ? &inputs[index] : &outputs[index];
    if (tsr_model_tensor_dtype(model, role, index) != TSR_DTYPE_F32) {
      fprintf(stderr, "embed: %s '%s' is not f32\n", tsr_role_name(role),
              tsr_model_tensor_name(model, role, index));
      goto done;
    }
    t->name = tsr_model_tensor_name(model, role, index);
    t->dtype = TSR_DTYPE_F32;
    t->rank = tsr_model_tensor_rank(model, role, index);
    t->shape = tsr_model_tensor_dims(model, role, index);
    t->byte_size = tsr_model_tensor_byte_size(model, role, index);
    t->data = malloc(t->byte_size + 1);
    if (role == TSR_ROLE_INPUT)
      for (i = 0; i < t->byte_size / sizeof(float); ++i)
        ((float *)t->data)[i] = (float)((int)((i * 7 + k * 3) % 11) - 5) / 5.0f;
  }

  t0 = now();
  e = tsr_model_run(model, inputs, num_in, outputs, num_out);
  if (e) {
    fprintf(stderr, "embed: %s\n", tsr_error_message(e));
    tsr_error_free(e);
    goto done;
  }
  printf("ran in %.6f s\n", now() - t0);
  for (k = 0; k < num_out; ++k) {
    printf("output %s:", outputs[k].name);
    for (i = 0; i < outputs[k].byte_size / sizeof(float); ++i)
      printf(" %.7g", ((float *)outputs[k].data)[i]);
    printf("\n");
  }
  status = 0;

done:
  for (k = 0; k < num_in; ++k)
    free(inputs[k].data);
  for (k = 0; k < num_out; ++k)
    free(outputs[k].data);
  free(inputs);
  free(outputs);
  tsr_model_free(model);
  return status;
}
