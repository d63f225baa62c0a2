//===- TExprDialect.h - OLLIE tensor-algebra expressions --------*- C++ -*-===//
#ifndef TESSERA_DIALECTS_TEXPR_TEXPRDIALECT_H
#define TESSERA_DIALECTS_TEXPR_TEXPRDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/TExpr/TExprDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/TExpr/TExprOps.h.inc"

#endif
