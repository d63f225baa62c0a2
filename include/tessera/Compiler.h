/*===- tessera/Compiler.h - Tessera compiler C API ----------------*- C -*-===*
 *
 * Compiles ONNX models (or MLIR in the tessera dialect) into Tessera
 * artifacts, from a file or from memory, into memory or onto disk. Plain C
 * (C89 plus <stddef.h>); the library is libtessera_compiler.so, which
 * exports only tsc_* symbols. tessera-compile is a thin main over this API.
 * Run what it makes with the runtime API (tessera/Runtime.h).
 *
 * Conventions (as in tessera/Runtime.h):
 *  - Handles are opaque. Every fallible function returns a `tsc_error *`:
 *    NULL on success, else an error the caller frees with tsc_error_free().
 *  - Options are tessera-compile's flags without the leading dashes, set as
 *    text: tsc_options_set(o, "memory-budget", "80%"). Flags without a value
 *    take "1"/"0" (also "true"/"false", "on"/"off"). List options
 *    ("input-shape", "stage-mesh") add one value per call. Unknown names and
 *    values of the wrong kind (a word for a number) are rejected when set;
 *    values outside an option's choices (precision "f8") and combinations
 *    ("loss" without "train") when the session is created, all with
 *    TSC_ERR_INVALID_OPTION.
 *  - Diagnostics (errors, warnings, notes, and progress remarks when the
 *    "verbose" option is on) reach the session's handler as they happen,
 *    with the source location when there is one. Errors are also collected
 *    in the tsc_error a failed compile returns.
 *  - Compilations in one process are serialized (one at a time); handles
 *    may be used from any thread, a session by one thread at a time. A
 *    diagnostic handler must not start another compile (it would wait on
 *    the one that called it).
 *
 * Minimal use:
 *
 *   tsc_options *o = NULL;  tsc_session *s = NULL;  tsc_output *a = NULL;
 *   tsc_error *e = tsc_options_create(&o);
 *   if (!e) e = tsc_options_set(o, "precision", "bf16");
 *   if (!e) e = tsc_session_create(o, &s);
 *   if (!e) e = tsc_compile_file(s, "model.onnx", &a);
 *   if (e) { fprintf(stderr, "%s\n", tsc_error_message(e)); tsc_error_free(e); }
 *   else   tsr_model_load_memory(tsc_output_data(a), tsc_output_size(a), &m);
 *   tsc_output_free(a); tsc_session_free(s); tsc_options_free(o);
 *===----------------------------------------------------------------------===*/
#ifndef TESSERA_COMPILER_H
#define TESSERA_COMPILER_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define TSC_API __attribute__((visibility("default")))
#else
#define TSC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this C API. Bumped on any incompatible change; compare with
 * tsc_api_version() to detect a header/library mismatch. */
#define TSC_API_VERSION 1

TSC_API int tsc_api_version(void);
/* Tessera's version, e.g. "0.1.0". */
TSC_API const char *tsc_version_string(void);
/* docs/supported-ops.md: a Markdown table of the ONNX operators the
 * importer converts. */
TSC_API const char *tsc_supported_ops(void);

/*===--------------------------- errors -----------------------------------===*/

typedef enum tsc_code {
  TSC_OK = 0,
  TSC_ERR_INVALID_ARGUMENT = 1, /* NULL handle or pointer, bad format name */
  TSC_ERR_INVALID_OPTION = 2,   /* unknown option, bad value, bad combination */
  TSC_ERR_IO = 3,               /* the model cannot be read, or the output
                                   (artifact, IR, pipeline directory) not
                                   written; files other options name
                                   (reports, dumps) fail as TSC_ERR_COMPILE */
  TSC_ERR_COMPILE = 4,          /* the model did not compile (diagnostics) */
  TSC_ERR_INTERNAL = 5,
  TSC_CODE_MAX_ENUM = 0x7FFFFFFF /* keeps the enum int-sized; not a code */
} tsc_code;

typedef struct tsc_error tsc_error;

/* Message text; "" for NULL, never NULL. A failed compile's message holds
 * every error diagnostic and its notes, each starting a line, as
 * "FILE:LINE:COL: error: MSG", "FILE: error: MSG" without a line, or
 * "error: MSG" without a location (a message may span lines). */
TSC_API const char *tsc_error_message(const tsc_error *error);
/* TSC_OK for NULL. */
TSC_API tsc_code tsc_error_code(const tsc_error *error);
/* Accepts NULL. */
TSC_API void tsc_error_free(tsc_error *error);

/*===--------------------------- options ----------------------------------===*/

typedef struct tsc_options tsc_options;

/* Defaults: target cpu, precision f32, no derivation, no memory budget, no
 * mesh, verbose off. */
TSC_API tsc_error *tsc_options_create(tsc_options **out_options);
TSC_API void tsc_options_free(tsc_options *options);
/* Sets (or, for list options, adds) one option. */
TSC_API tsc_error *tsc_options_set(tsc_options *options, const char *name,
                                   const char *value);
/* The options this library knows, for help texts: the name and a one-line
 * description of the index-th; NULL past the end. */
TSC_API const char *tsc_option_name(size_t index);
TSC_API const char *tsc_option_help(size_t index);

/*===--------------------------- diagnostics ------------------------------===*/

typedef enum tsc_severity {
  TSC_SEVERITY_ERROR = 0,
  TSC_SEVERITY_WARNING = 1,
  TSC_SEVERITY_NOTE = 2,   /* attached to the diagnostic before it */
  TSC_SEVERITY_REMARK = 3, /* progress and timing ("verbose") */
  TSC_SEVERITY_MAX_ENUM = 0x7FFFFFFF
} tsc_severity;

typedef struct tsc_diagnostic {
  tsc_severity severity;
  const char *message; /* may span lines */
  const char *file;    /* source file or buffer name; NULL if no location */
  unsigned line;       /* 1-based; 0 when not known (whole-file messages) */
  unsigned column;     /* 1-based; 0 when not known (ONNX: line = node
                          index + 1, and the node's name starts the message) */
} tsc_diagnostic;

/* Called on the compiling thread; the strings live until it returns. */
typedef void (*tsc_diagnostic_handler)(const tsc_diagnostic *diagnostic,
                                       void *user_data);

/* "error", "warning", "note", "remark"; "invalid" otherwise. */
TSC_API const char *tsc_severity_name(tsc_severity severity);
/* tessera-compile's rendering ("FILE:LINE:COL: error: MSG", "FILE: error:
 * MSG" without a line, "tessera-compile: warning: MSG", "[tessera-compile]
 * MSG" for remarks), with a trailing newline; owned by the caller (free
 * with tsc_string_free); NULL for a bad severity. */
TSC_API char *tsc_diagnostic_format(const tsc_diagnostic *diagnostic);
TSC_API void tsc_string_free(char *string);

/*===--------------------------- sessions ---------------------------------===*/

typedef struct tsc_session tsc_session;

/* Copies and checks the options; later changes to them do not reach the
 * session. */
TSC_API tsc_error *tsc_session_create(const tsc_options *options,
                                      tsc_session **out_session);
TSC_API void tsc_session_free(tsc_session *session);
/* NULL handler: diagnostics are only collected into errors. */
TSC_API void tsc_session_set_diagnostic_handler(tsc_session *session,
                                                tsc_diagnostic_handler handler,
                                                void *user_data);

/*===--------------------------- compiling --------------------------------===*/

/* What a compile made: the artifact, or the IR/object the "emit" option
 * asks for. */
typedef struct tsc_output tsc_output;

/* Compiles a model file (".mlir": tessera-dialect MLIR, else ONNX). */
TSC_API tsc_error *tsc_compile_file(tsc_session *session, const char *path,
                                    tsc_output **out_output);
/* Compiles a model in memory. `format` is "onnx" or "mlir"; `name` names it
 * in diagnostics (NULL: "<buffer>"). The bytes are not kept. */
TSC_API tsc_error *tsc_compile_buffer(tsc_session *session, const void *data,
                                      size_t size, const char *format,
                                      const char *name,
                                      tsc_output **out_output);
/* Compiles a model file onto disk: output_path is the artifact ("-" for
 * stdout with IR emits; TSC_ERR_INVALID_ARGUMENT for an artifact), or, with "pipeline-stages" above 1, the directory
 * of stage artifacts and pipeline.json. Each file is written atomically and
 * only once complete: a failed compile leaves no artifact (a failed
 * pipeline may leave the stages before the failing one). */
TSC_API tsc_error *tsc_compile_file_to_path(tsc_session *session,
                                            const char *input_path,
                                            const char *output_path);

TSC_API const void *tsc_output_data(const tsc_output *output);
TSC_API size_t tsc_output_size(const tsc_output *output);
/* Wall-clock seconds the compile took. */
TSC_API double tsc_output_compile_seconds(const tsc_output *output);
/* Writes the bytes to `path` atomically (a temporary file renamed). */
TSC_API tsc_error *tsc_output_write(const tsc_output *output,
                                    const char *path);
TSC_API void tsc_output_free(tsc_output *output);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_COMPILER_H */
