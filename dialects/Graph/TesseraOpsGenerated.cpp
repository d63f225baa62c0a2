//===- TesseraOpsGenerated.cpp - ODS-generated op code ----------*- C++ -*-===//
// Kept in its own translation unit so that hand-written code rebuilds fast.
#include "dialects/Graph/TesseraDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#define GET_OP_CLASSES
#include "dialects/Graph/TesseraOps.cpp.inc"
