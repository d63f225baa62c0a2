//===- Verify.cpp - numeric and Z3 verification of derivations ------------===//
#include "passes/derive/Derive.h"

#include "mlir/IR/AffineExpr.h"

#include <z3++.h>

#include <cmath>
#include <random>

using namespace mlir;

namespace tessera::derive {
namespace {
z3::expr toZ3(z3::context &c, AffineExpr e, const std::vector<z3::expr> &dims) {
  switch (e.getKind()) {
  case AffineExprKind::Constant:
    return c.int_val((int64_t)cast<AffineConstantExpr>(e).getValue());
  case AffineExprKind::DimId:
    return dims[cast<AffineDimExpr>(e).getPosition()];
  default:
    break;
  }
  auto bin = cast<AffineBinaryOpExpr>(e);
  z3::expr l = toZ3(c, bin.getLHS(), dims), r = toZ3(c, bin.getRHS(), dims);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return l + r;
  case AffineExprKind::Mul:
    return l * r;
  case AffineExprKind::FloorDiv: // SMT-LIB div rounds down for positive divisors
    return l / r;
  case AffineExprKind::CeilDiv:
    return -((-l) / r);
  default:
    return z3::mod(l, r);
  }
}
} // namespace

std::string prove(const Obligation &o) {
  try {
    z3::context c;
    z3::solver s(c);
    z3::params p(c);
    p.set("timeout", 2000u);
    s.set(p);
    std::vector<z3::expr> dims;
    for (auto [i, r] : llvm::enumerate(o.box)) {
      dims.push_back(c.int_const(("d" + std::to_string(i)).c_str()));
      s.add(dims.back() >= c.int_val((int64_t)r.lo) &&
            dims.back() < c.int_val((int64_t)r.hi));
    }
    if (o.kind == Obligation::Covers) {
      z3::expr_vector outside(c);
      for (auto [e, r] : llvm::zip(o.map, o.to)) {
        z3::expr v = toZ3(c, e, dims);
        outside.push_back(v < c.int_val((int64_t)r.lo) ||
                          v >= c.int_val((int64_t)r.hi));
      }
      s.add(z3::mk_or(outside));
    } else {
      for (auto &[idx, shape] : o.accesses)
        for (auto [e, n] : llvm::zip(idx, shape)) {
          z3::expr v = toZ3(c, e, dims);
          s.add(v >= 0 && v < c.int_val((int64_t)n));
        }
    }
    switch (s.check()) {
    case z3::unsat:
      return "";
    case z3::sat:
      return "z3 found a counterexample to '" + o.what + "'";
    default:
      return "z3 could not decide '" + o.what + "' (" + s.reason_unknown() + ")";
    }
  } catch (const z3::exception &e) {
    return std::string("z3 error: ") + e.msg();
  }
}

Verdict verify(const Scope &original, const Scope &derived,
               ArrayRef<SmallVector<int64_t, 6>> inputShapes,
               ArrayRef<Step> trace, uint64_t seed) {
  Verdict v;
  if (original.shape() != derived.shape()) {
    v.failure = "result shapes differ";
    return v;
  }
  std::mt19937_64 rng(seed);
  // Inputs are generated on demand from (seed, input, index): only the
  // elements the sampled outputs read are ever computed.
  std::vector<HostTensor> inputs;
  for (auto [i, shape] : llvm::enumerate(inputShapes)) {
    HostTensor t;
    t.shape = shape;
    t.seed = seed * 1000003 + i;
    inputs.push_back(std::move(t));
  }
  for (int64_t d : original.shape())
    if (d <= 0) {
      v.failure = "empty result";
      return v;
    }
  Evaluator e1(inputs), e2(inputs);
  auto shape = original.shape();
  std::vector<SmallVector<int64_t, 6>> points;
  SmallVector<int64_t, 6> lo(shape.size(), 0), hi;
  for (int64_t d : shape)
    hi.push_back(d - 1);
  points.push_back(lo);
  points.push_back(hi);
  for (int i = 0; i < 62; ++i) {
    SmallVector<int64_t, 6> p;
    for (int64_t d : shape)
      p.push_back(std::uniform_int_distribution<int64_t>(0, d - 1)(rng));
    // Every fourth point sits on a border of a random dim (padding paths).
    if (i % 4 == 0 && !p.empty()) {
      unsigned k = rng() % p.size();
      p[k] = (rng() & 1) ? 0 : shape[k] - 1;
    }
    points.push_back(p);
  }
  for (auto &p : points) {
    double a = e1.at(original, p), b = e2.at(derived, p);
    double err = std::fabs(a - b) / (1.0 + std::fabs(a));
    v.maxError = std::max(v.maxError, err);
    ++v.pointsChecked;
    if (!(err <= 1e-6)) {
      v.failure = "numeric mismatch: original " + std::to_string(a) +
                  ", derived " + std::to_string(b);
      return v;
    }
  }
  for (const Step &s : trace)
    for (const Obligation &o : s.proofs) {
      std::string why = prove(o);
      if (!why.empty()) {
        v.failure = s.rule + ": " + why;
        return v;
      }
      ++v.obligations;
    }
  v.ok = true;
  return v;
}

} // namespace tessera::derive
