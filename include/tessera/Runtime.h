/*===- tessera/Runtime.h - Tessera runtime C API ------------------*- C -*-===*
 *
 * Loads a Tessera artifact (`.tsr`, see tessera/Artifact.h) and runs it on
 * caller-provided buffers. Plain C (C89 plus <stdint.h>), usable from C and
 * C++; the runtime library has no MLIR/LLVM dependency.
 *
 * Conventions:
 *  - Handles are opaque. Every fallible function returns a `tsr_error *`:
 *    NULL on success, otherwise an error object owned by the caller, which
 *    must release it with tsr_error_free().
 *  - Strings returned by the API are owned by the object they came from and
 *    stay valid until that object is freed.
 *  - Signature queries take a role (input, output or weight) and an index in
 *    manifest order; an out-of-range index gives NULL / TSR_DTYPE_INVALID /
 *    -1 / 0 as documented per function.
 *  - Loading an artifact for the "cpu" target loads its host code (a shared
 *    object) into the process and runs its initialisers: only load artifacts
 *    you would trust as native code. Everything else in the file is fully
 *    validated first; malformed files give an error, never a crash.
 *  - A model may be run from several threads at once as long as the calls
 *    do not share output buffers. CPU runs proceed in parallel (each has its
 *    own scratch arena) and read and write the caller's buffers directly;
 *    runs of one CUDA model are serialized (shared device buffers).
 *
 * Minimal use:
 *
 *   tsr_model *m = NULL;
 *   tsr_error *e = tsr_model_load_file("model.tsr", &m);
 *   if (e) { fprintf(stderr, "%s\n", tsr_error_message(e)); tsr_error_free(e); }
 *   ...
 *   tsr_tensor in = {"x", TSR_DTYPE_F32, 2, x_shape, x_data, sizeof x_data};
 *   tsr_tensor out = {NULL, TSR_DTYPE_F32, 2, y_shape, y_data, sizeof y_data};
 *   e = tsr_model_run(m, &in, 1, &out, 1);
 *   ...
 *   tsr_model_free(m);
 *===----------------------------------------------------------------------===*/
#ifndef TESSERA_RUNTIME_H
#define TESSERA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TSR_API __attribute__((visibility("default")))
#else
#define TSR_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this C API. Bumped on any incompatible change. Compare with
 * tsr_runtime_api_version() to detect a header/library mismatch. */
#define TSR_RUNTIME_API_VERSION 1

/* Largest tensor rank the runtime accepts in a manifest. */
#define TSR_MAX_RANK 32

/*===--------------------------- errors -----------------------------------===*/

typedef enum tsr_code {
  TSR_OK = 0,
  TSR_ERR_IO = 1,                 /* file cannot be opened or read */
  TSR_ERR_FORMAT = 2,             /* not an artifact, bad JSON, bad schema */
  TSR_ERR_VERSION = 3,            /* unsupported format version or ABI */
  TSR_ERR_CORRUPT = 4,            /* truncated, CRC mismatch, bad offsets */
  TSR_ERR_INVALID_ARGUMENT = 5,   /* NULL handle, wrong count, unknown name */
  TSR_ERR_SHAPE_MISMATCH = 6,     /* tensor rank/dims/byte size differ */
  TSR_ERR_DTYPE_MISMATCH = 7,     /* tensor element type differs */
  TSR_ERR_UNSUPPORTED_TARGET = 8, /* artifact for a target not built in */
  TSR_ERR_OUT_OF_MEMORY = 9,
  TSR_ERR_INTERNAL = 10,          /* code loading failed, broken invariant */
  TSR_ERR_DEVICE = 11,            /* no GPU/driver, or a CUDA/cuBLAS call failed */
  TSR_CODE_MAX_ENUM = 0x7FFFFFFF  /* keeps the enum int-sized; not a code */
} tsr_code;

typedef struct tsr_error tsr_error;

/* Message text; "" for NULL. Never NULL. May span several lines when a call
 * found several problems at once. */
TSR_API const char *tsr_error_message(const tsr_error *error);
/* TSR_OK for NULL. */
TSR_API tsr_code tsr_error_code(const tsr_error *error);
/* Accepts NULL. */
TSR_API void tsr_error_free(tsr_error *error);
/* Stable spelling of a code, e.g. "TSR_ERR_CORRUPT". Never NULL. */
TSR_API const char *tsr_code_name(tsr_code code);

/*===--------------------------- versions ---------------------------------===*/

/* TSR_RUNTIME_API_VERSION the library was built with. */
TSR_API int tsr_runtime_api_version(void);
/* Artifact format version this runtime reads (TSR_FORMAT_VERSION). */
TSR_API uint32_t tsr_runtime_format_version(void);

/*===--------------------------- dtypes -----------------------------------===*/

typedef enum tsr_dtype {
  TSR_DTYPE_INVALID = 0,
  TSR_DTYPE_F32 = 1,
  TSR_DTYPE_F64 = 2,
  TSR_DTYPE_F16 = 3,
  TSR_DTYPE_BF16 = 4,
  TSR_DTYPE_I8 = 5,
  TSR_DTYPE_U8 = 6,
  TSR_DTYPE_I16 = 7,
  TSR_DTYPE_I32 = 8,
  TSR_DTYPE_I64 = 9,
  TSR_DTYPE_BOOL = 10, /* one byte per element, 0 or 1 */
  TSR_DTYPE_MAX_ENUM = 0x7FFFFFFF /* keeps the enum int-sized; not a dtype */
} tsr_dtype;

/* The artifact spelling ("f32", "bool", ...); "invalid" for unknown values. */
TSR_API const char *tsr_dtype_name(tsr_dtype dtype);
/* Bytes per element; 0 for TSR_DTYPE_INVALID or unknown values. */
TSR_API size_t tsr_dtype_size(tsr_dtype dtype);
/* Inverse of tsr_dtype_name; TSR_DTYPE_INVALID if not a dtype name. */
TSR_API tsr_dtype tsr_dtype_from_name(const char *name);

/*===--------------------------- models -----------------------------------===*/

typedef struct tsr_model tsr_model;

/* Reads, validates and loads an artifact. On success *out_model is set; on
 * failure it is set to NULL. */
TSR_API tsr_error *tsr_model_load_file(const char *path, tsr_model **out_model);
/* Same from memory; the bytes are copied, the caller keeps ownership. */
TSR_API tsr_error *tsr_model_load_memory(const void *data, size_t size,
                                         tsr_model **out_model);
/* Accepts NULL. */
TSR_API void tsr_model_free(tsr_model *model);

/* Manifest fields; NULL if model is NULL. */
TSR_API const char *tsr_model_name(const tsr_model *model);
TSR_API const char *tsr_model_producer(const tsr_model *model);
TSR_API const char *tsr_model_target(const tsr_model *model);
TSR_API const char *tsr_model_entry(const tsr_model *model);
/* The manifest JSON text exactly as stored in the artifact. */
TSR_API const char *tsr_model_manifest_json(const tsr_model *model);
TSR_API uint32_t tsr_model_format_version(const tsr_model *model);

/*===--------------------------- signature --------------------------------===*/

typedef enum tsr_role {
  TSR_ROLE_INPUT = 0,
  TSR_ROLE_OUTPUT = 1,
  TSR_ROLE_WEIGHT = 2,
  TSR_ROLE_MAX_ENUM = 0x7FFFFFFF /* keeps the enum int-sized; not a role */
} tsr_role;

/* "input", "output", "weight"; "invalid" otherwise. */
TSR_API const char *tsr_role_name(tsr_role role);

TSR_API size_t tsr_model_num_inputs(const tsr_model *model);
TSR_API size_t tsr_model_num_outputs(const tsr_model *model);
/* Number of tensors with the given role; 0 for a NULL model or bad role. */
TSR_API size_t tsr_model_num_tensors(const tsr_model *model, tsr_role role);
/* Index of the tensor called `name`, or -1. */
TSR_API int64_t tsr_model_tensor_index(const tsr_model *model, tsr_role role,
                                       const char *name);
/* NULL when out of range. */
TSR_API const char *tsr_model_tensor_name(const tsr_model *model,
                                          tsr_role role, size_t index);
/* TSR_DTYPE_INVALID when out of range. */
TSR_API tsr_dtype tsr_model_tensor_dtype(const tsr_model *model, tsr_role role,
                                         size_t index);
/* -1 when out of range. */
TSR_API int64_t tsr_model_tensor_rank(const tsr_model *model, tsr_role role,
                                      size_t index);
/* `rank` dims; NULL when out of range (non-NULL for rank 0). */
TSR_API const int64_t *tsr_model_tensor_dims(const tsr_model *model,
                                             tsr_role role, size_t index);
/* Product of the dims (1 for rank 0); -1 when out of range. */
TSR_API int64_t tsr_model_tensor_element_count(const tsr_model *model,
                                               tsr_role role, size_t index);
/* element count * dtype size; 0 when out of range. */
TSR_API size_t tsr_model_tensor_byte_size(const tsr_model *model,
                                          tsr_role role, size_t index);

/*===--------------------------- memory -----------------------------------===*/

/* Bytes of the scratch arena each run allocates: the compile-time memory
 * plan's peak for intermediate tensors (0 when the model has none). */
TSR_API uint64_t tsr_model_arena_bytes(const tsr_model *model);
/* With `enable` non-zero, later runs fill the arena with a canary byte first
 * and record how far it was written; resets the mark. Runs alternate two
 * canaries, so the mark is exact after two measured runs (one can fall
 * short where the last bytes written equal the canary). Costs a fill and a
 * scan per run. */
TSR_API void tsr_model_measure_arena(tsr_model *model, int enable);
/* The highest arena byte (+1) any measured run wrote: equals
 * tsr_model_arena_bytes when the plan's peak is reached. */
TSR_API uint64_t tsr_model_arena_high_water(const tsr_model *model);

/*===--------------------------- running ----------------------------------===*/

/* A caller-owned dense, row-major tensor. */
typedef struct tsr_tensor {
  /* Model tensor this binds to, or NULL to bind by position: a NULL-named
   * entry at position i of the array binds to the i-th model tensor. */
  const char *name;
  tsr_dtype dtype;
  int64_t rank;
  const int64_t *shape; /* `rank` dims; may be NULL when rank is 0 */
  void *data;           /* aligned to the dtype size; read-only for inputs;
                           may be NULL only when the tensor has no elements */
  size_t byte_size;     /* bytes available at data; >= elements * dtype size */
} tsr_tensor;

/* Checks every input and output against the signature (count, binding,
 * dtype, rank, each dim, byte size, alignment), reporting every problem at
 * once, then runs the model, writing every output element. */
TSR_API tsr_error *tsr_model_run(tsr_model *model, const tsr_tensor *inputs,
                                 size_t num_inputs, tsr_tensor *outputs,
                                 size_t num_outputs);

/* How one run meets the caller: streams and device memory (cuda target).
 * Fill with tsr_run_options_init, then set fields. */
typedef struct tsr_run_options {
  size_t struct_size; /* sizeof(tsr_run_options), set by tsr_run_options_init */
  /* cuda target: the CUstream to order the run on (it starts after the
   * stream's earlier work, and the stream's later work sees its outputs);
   * NULL: the model's own stream. */
  void *cuda_stream;
  /* cuda target, non-zero: every tsr_tensor.data is a device pointer
   * (CUdeviceptr in the model's device context) that the kernels and GEMMs
   * read and write in place: no copies. */
  int device_buffers;
  /* With device_buffers and a cuda_stream, non-zero: return once the run
   * is enqueued; the outputs are ready when the stream reaches that point,
   * and the inputs must stay unchanged, and the model loaded, until then.
   * Runs of one model still follow one another (each waits on the device
   * for the previous one's end). Host buffers always wait. */
  int asynchronous;
} tsr_run_options;

/* Zeroes *options and sets struct_size: a plain synchronous run. */
TSR_API void tsr_run_options_init(tsr_run_options *options);

/* tsr_model_run with options (NULL: as tsr_model_run). cuda_stream and
 * device_buffers apply to cuda artifacts only (TSR_ERR_INVALID_ARGUMENT
 * otherwise). Runs with either enqueue their steps one by one (the model's
 * CUDA graph serves plain runs only); a stream being captured into a graph
 * is refused (TSR_ERR_DEVICE). The model's context is pushed for the run and
 * popped after (drivers without cuCtxPushCurrent: made current), so the
 * caller's current context is kept. tsr_model_free waits
 * for an unfinished asynchronous run. */
TSR_API tsr_error *tsr_model_run_with_options(tsr_model *model,
                                              const tsr_run_options *options,
                                              const tsr_tensor *inputs,
                                              size_t num_inputs,
                                              tsr_tensor *outputs,
                                              size_t num_outputs);

/*===--------------------------- partitioned models -----------------------===*/

/* A model compiled with `tessera-compile --mesh` is one SPMD program for a
 * device mesh: run it with one process per device under mpirun (the
 * MPI_COMM_WORLD rank is the device's row-major index in the mesh). Every
 * process calls tsr_model_run with the whole inputs, and every process gets
 * the whole outputs; the runtime cuts each device's shards and gathers the
 * results (collectives through MPI). Runs of one model are serialized. */

/* Devices the model is partitioned over (1 for an ordinary model). */
TSR_API int64_t tsr_model_num_devices(const tsr_model *model);
/* This process's device index (0 for an ordinary model); initializes MPI
 * for a partitioned one. */
TSR_API tsr_error *tsr_model_device_rank(const tsr_model *model,
                                         int64_t *out_rank);

/*===--------------------------- pipelines --------------------------------===*/

/* A pipeline (tessera-compile --pipeline-stages=N -o DIR) is DIR/pipeline.json
 * and one artifact per stage, each on its own device mesh. Run it under
 * mpirun with as many processes as the stages' devices together: world ranks
 * are dealt to the stages in order. Every process passes the whole inputs and
 * gets the whole outputs. */
typedef struct tsr_pipeline tsr_pipeline;

/* Loads DIR/pipeline.json (path to the file) and this process's stage
 * artifact; collective over MPI_COMM_WORLD. */
TSR_API tsr_error *tsr_pipeline_load(const char *path, tsr_pipeline **out);
TSR_API void tsr_pipeline_free(tsr_pipeline *pipeline);
TSR_API int64_t tsr_pipeline_num_stages(const tsr_pipeline *pipeline);
/* This process's stage and its MPI_COMM_WORLD rank. */
TSR_API int64_t tsr_pipeline_stage(const tsr_pipeline *pipeline);
TSR_API int64_t tsr_pipeline_rank(const tsr_pipeline *pipeline);
/* The model's inputs and outputs (TSR_ROLE_INPUT, TSR_ROLE_OUTPUT) at one
 * micro-batch. */
TSR_API size_t tsr_pipeline_num_tensors(const tsr_pipeline *pipeline,
                                        tsr_role role);
TSR_API const char *tsr_pipeline_tensor_name(const tsr_pipeline *pipeline,
                                             tsr_role role, size_t index);
TSR_API tsr_dtype tsr_pipeline_tensor_dtype(const tsr_pipeline *pipeline,
                                            tsr_role role, size_t index);
TSR_API int64_t tsr_pipeline_tensor_rank(const tsr_pipeline *pipeline,
                                         tsr_role role, size_t index);
TSR_API const int64_t *tsr_pipeline_tensor_dims(const tsr_pipeline *pipeline,
                                                tsr_role role, size_t index);
/* Runs `micro_batches` micro-batches: each tensor's dim 0 is micro_batches
 * times the compiled one (binding by name, else position). Boundary tensors
 * move between stages by broadcast (one per tensor and micro-batch from a
 * byte-balanced sender; `broadcast` non-zero) or by one send/recv per
 * receiving device. Collective over MPI_COMM_WORLD. */
TSR_API tsr_error *tsr_pipeline_run(tsr_pipeline *pipeline,
                                    const tsr_tensor *inputs,
                                    size_t num_inputs, tsr_tensor *outputs,
                                    size_t num_outputs, int64_t micro_batches,
                                    int broadcast);
/* Seconds this process spent sending and receiving boundary tensors in the
 * last run. */
TSR_API double tsr_pipeline_transfer_seconds(const tsr_pipeline *pipeline);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_RUNTIME_H */
