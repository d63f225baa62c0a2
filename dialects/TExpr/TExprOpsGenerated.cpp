//===- TExprOpsGenerated.cpp - ODS-generated op code ------------*- C++ -*-===//
// Kept in its own translation unit so that hand-written code rebuilds fast.
#include "dialects/TExpr/TExprDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#define GET_OP_CLASSES
#include "dialects/TExpr/TExprOps.cpp.inc"
