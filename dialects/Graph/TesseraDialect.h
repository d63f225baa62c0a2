//===- TesseraDialect.h - the tessera graph dialect -------------*- C++ -*-===//
#ifndef TESSERA_DIALECTS_GRAPH_TESSERADIALECT_H
#define TESSERA_DIALECTS_GRAPH_TESSERADIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Graph/TesseraDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/Graph/TesseraOps.h.inc"

#endif
