/*===- tessera/Artifact.h - Tessera artifact ABI -----------------*- C -*-===*
 *
 * The on-disk layout of a Tessera artifact (`.tsr`). This header is the
 * contract between the compiler (which writes artifacts) and the runtime
 * (which loads them); it has no dependency on MLIR or LLVM.
 *
 * Layout (all integers little-endian):
 *
 *   TsrFileHeader                       (64 bytes, at offset 0)
 *   TsrSectionEntry[section_count]      (32 bytes each, right after header)
 *   ...sections, each starting at a multiple of TSR_SECTION_ALIGN...
 *
 * header_crc32 is the CRC-32 (IEEE 802.3, as zlib's crc32) of the header with
 * the header_crc32 field set to zero, followed by the section table.
 * Each section's crc32 is the CRC-32 of its bytes.
 *
 * Sections:
 *   TSR_SECTION_MANIFEST  UTF-8 JSON manifest (exactly one). Keys:
 *     "format_version": int (== TSR_FORMAT_VERSION)
 *     "producer": string, "model": string,
 *     "target": "cpu" (host shared object) | "cuda" (PTX kernels + plan)
 *     "entry": string  name of the entry symbol in the code section
 *     "abi": "tessera-packed-v1"
 *     "inputs":  [{"name": str, "dtype": str, "shape": [int...]}...]
 *     "outputs": [{"name": str, "dtype": str, "shape": [int...]}...]
 *     "weights": [{"name": str, "dtype": str, "shape": [int...],
 *                  "offset": int, "size": int}...]
 *        offset/size in bytes within the WEIGHTS section; offset is a
 *        multiple of TSR_SECTION_ALIGN.
 *   TSR_SECTION_HOST_CODE  an ELF shared object for the host (exactly one
 *     for target "cpu"). It exports the entry symbol with signature
 *       void entry(void **args);
 *     args = [inputs..., weights..., outputs...] in manifest order, each a
 *     pointer to dense row-major data of the declared dtype and shape.
 *     The entry writes every output element. It is not re-entrant-safe to
 *     share output buffers between concurrent calls; inputs and weights are
 *     only read.
 *   TSR_SECTION_WEIGHTS  raw weight bytes (at most one; absent if none).
 *   TSR_SECTION_PTX    (target "cuda", exactly one) PTX text of the module
 *     named by "entry"; TSR_SECTION_CUBIN (optional) the same assembled by
 *     ptxas for "gpu_arch" ("sm_80", "sm_90").
 *   For target "cuda" the manifest also has "gpu_arch" and "gpu", the launch
 *   plan: {"arena_bytes", "kernel_module", "buffers": [{"kind": "arg",
 *   "index" (into inputs, weights, outputs), "bytes"} | {"kind": "arena",
 *   "offset", "bytes"} | {"kind": "const", "offset", "bytes", "data": [byte...]
 *   or "splat": [byte...], "count"}], "steps": [{"op": "launch", "kernel",
 *   "grid": [3], "block": [3], "args": [{"buffer", "offset"}...], "loc"} |
 *   {"op": "gemm", "dtype": "f32", "batch", "m", "n", "k", "a", "b", "c"
 *   (refs), "a_batched", "b_batched", "loc"}]}. Kernel arguments are device
 *   pointers (buffer base + offset); a gemm computes row-major
 *   C[b] += A[b] (m x k) * B[b] (k x n), an unbatched operand shared.
 *
 * dtype strings: "f32" "f64" "f16" "bf16" "i8" "u8" "i16" "i32" "i64" "bool"
 * ("bool" is one byte per element, 0 or 1).
 *===----------------------------------------------------------------------===*/
#ifndef TESSERA_ARTIFACT_H
#define TESSERA_ARTIFACT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_MAGIC "TESSERA\0" /* 8 bytes */
#define TSR_FORMAT_VERSION 1u
#define TSR_SECTION_ALIGN 64u
#define TSR_MAX_SECTIONS 64u

enum TsrSectionKind {
  TSR_SECTION_MANIFEST = 1,
  TSR_SECTION_HOST_CODE = 2,
  TSR_SECTION_WEIGHTS = 3,
  TSR_SECTION_PTX = 4,   /* PTX text of the kernels (target "cuda") */
  TSR_SECTION_CUBIN = 5, /* ptxas output for manifest "gpu_arch" (optional) */
};

typedef struct TsrFileHeader {
  char magic[8];          /* TSR_MAGIC */
  uint32_t format_version;/* TSR_FORMAT_VERSION */
  uint32_t section_count; /* <= TSR_MAX_SECTIONS */
  uint64_t file_size;     /* total size of the artifact in bytes */
  uint32_t header_crc32;  /* see above */
  uint32_t flags;         /* 0 */
  uint8_t reserved[32];   /* zero */
} TsrFileHeader;

typedef struct TsrSectionEntry {
  uint32_t kind;   /* TsrSectionKind */
  uint32_t crc32;  /* CRC-32 of the section bytes */
  uint64_t offset; /* from file start, multiple of TSR_SECTION_ALIGN */
  uint64_t size;   /* bytes */
  uint64_t reserved; /* zero */
} TsrSectionEntry;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_ARTIFACT_H */
