//===- DeriveTest.cpp - expression model, rules, verification -------------===//
#include "passes/derive/Derive.h"
#include "passes/derive/Expr.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace tessera::derive;
using mlir::AffineExpr;

namespace {
struct DeriveTest : ::testing::Test {
  mlir::MLIRContext ctx;
  AffineExpr d(unsigned i) { return mlir::getAffineDimExpr(i, &ctx); }

  /// O[m, n] = Sum_k A[m, k] * B[k, n] (A: MxK input 0, B: KxN input 1).
  std::shared_ptr<Scope> matmul(int64_t M, int64_t N, int64_t K) {
    auto s = std::make_shared<Scope>();
    s->ctx = &ctx;
    s->loops = {{0, M}, {0, N}};
    s->padLo = {0, 0};
    s->padHi = {0, 0};
    s->sums = {{0, K}};
    s->srcs = {Source{0, nullptr, {M, K}}, Source{1, nullptr, {K, N}}};
    s->body = Node::binary(NodeKind::Mul, Node::access(0, {d(0), d(2)}),
                           Node::access(1, {d(2), d(1)}));
    return s;
  }
  /// 1-D conv O[h] = Sum_{c,r} X[c, h + r - 1] * W[c, r] (pad 1).
  std::shared_ptr<Scope> conv1d(int64_t C, int64_t H, int64_t R) {
    auto s = std::make_shared<Scope>();
    s->ctx = &ctx;
    s->loops = {{0, H}};
    s->padLo = {0};
    s->padHi = {0};
    s->sums = {{0, C}, {0, R}};
    s->srcs = {Source{0, nullptr, {C, H}}, Source{1, nullptr, {C, R}}};
    s->body = Node::binary(NodeKind::Mul, Node::access(0, {d(1), d(0) + d(2) - 1}),
                           Node::access(1, {d(1), d(2)}));
    return s;
  }
  std::vector<llvm::SmallVector<int64_t, 6>> shapes(const Scope &s) {
    std::vector<llvm::SmallVector<int64_t, 6>> r;
    for (const Source &x : s.srcs)
      r.push_back(x.shape);
    return r;
  }
};

TEST_F(DeriveTest, AffineEvaluationUsesFloorSemantics) {
  EXPECT_EQ(evalAffine(d(0).floorDiv(2), {-3}), -2);
  EXPECT_EQ(evalAffine(d(0) % 2, {-3}), 1);
  EXPECT_EQ(evalAffine(d(0).ceilDiv(2), {-3}), -1);
  EXPECT_EQ(evalAffine(d(0) * 3 + d(1) - 4, {2, 5}), 7);
  auto [lo, hi] = boundsOf(d(0) - d(1) * 2 + 1, {{0, 4}, {0, 3}});
  EXPECT_EQ(lo, -3);
  EXPECT_EQ(hi, 4);
}

TEST_F(DeriveTest, FingerprintIgnoresSummationNamesAndOperandOrder) {
  auto a = conv1d(3, 8, 3);
  // Same expression, summation iterators swapped (d1 <-> d2) and the
  // product's operands in the other order.
  auto b = std::make_shared<Scope>(*a);
  b->sums = {{0, 3}, {0, 3}};
  b->body = Node::binary(NodeKind::Mul, Node::access(1, {d(2), d(1)}),
                         Node::access(0, {d(2), d(0) + d(1) - 1}));
  EXPECT_EQ(fingerprint(*a), fingerprint(*b));
  // A different index is a different expression.
  auto c = std::make_shared<Scope>(*a);
  c->body = Node::binary(NodeKind::Mul, Node::access(0, {d(1), d(0) + d(2)}),
                         Node::access(1, {d(1), d(2)}));
  EXPECT_NE(fingerprint(*a), fingerprint(*c));
  // So is a different range.
  auto e = std::make_shared<Scope>(*a);
  e->loops = {{1, 9}};
  EXPECT_NE(fingerprint(*a), fingerprint(*e));
}

TEST_F(DeriveTest, InterpreterComputesMatmul) {
  auto s = matmul(2, 2, 3);
  HostTensor A{{2, 3}, {1, 2, 3, 4, 5, 6}}, B{{3, 2}, {1, 0, 0, 1, 1, 1}};
  std::vector<HostTensor> in{A, B};
  Evaluator ev(in);
  EXPECT_DOUBLE_EQ(ev.at(*s, {0, 0}), 4);  // 1 + 3
  EXPECT_DOUBLE_EQ(ev.at(*s, {1, 1}), 11); // 5 + 6
}

TEST_F(DeriveTest, EveryRuleOnConvVerifies) {
  auto s = conv1d(4, 8, 3);
  auto split = summationSplit(*s, {1});
  ASSERT_TRUE(split);
  const Scope &inner = *split->scope->srcs[0].scope;
  auto sub = substitute(inner, 0, 1, 1);
  ASSERT_TRUE(sub);
  std::vector<Step> trace{split->step, sub->step};
  ScopePtr root = normalize(replaceAt(split->scope, {0}, sub->scope), trace);
  Verdict v = verify(*s, *root, shapes(*s), trace, 3);
  EXPECT_TRUE(v.ok) << v.failure;
  EXPECT_GT(v.obligations, 0);
  EXPECT_EQ(v.pointsChecked, 64);
  // The inner stage is now a plain matmul: T[h', r] = Sum_c X[c, h'-1] W[c, r].
  const Scope &t = *root->srcs[0].scope;
  EXPECT_EQ(matchLibrary(t).kind, LibKind::Matmul);
}

TEST_F(DeriveTest, RelaxAndSplitVerify) {
  auto s = conv1d(2, 6, 5);
  auto r = relax(*s, 1, {0, 6});
  ASSERT_TRUE(r);
  auto sp = splitSum(*r->scope, 1, 3);
  ASSERT_TRUE(sp);
  Verdict v = verify(*s, *sp->scope, shapes(*s), {r->step, sp->step}, 5);
  EXPECT_TRUE(v.ok) << v.failure;
  // Relaxing over points that are not zero is refused.

  auto bad = relax(*conv1d(4, 6, 5), 0, {0, 5}); // X rows 4.. exist? no: C = 4
  EXPECT_TRUE(bad); // X[4, .] is out of bounds: a legal relaxation
  auto wide = std::make_shared<Scope>(*s);
  wide->srcs[0].shape = {3, 6}; // now X[2, .] exists: C=2 -> 3 is not zero
  wide->srcs[1].shape = {3, 5};
  EXPECT_FALSE(relax(*wide, 0, {0, 3}));
}

TEST_F(DeriveTest, VerificationCatchesAWrongDerivation) {
  auto s = conv1d(4, 8, 3);
  auto wrong = std::make_shared<Scope>(*s);
  wrong->body = Node::binary(NodeKind::Mul, Node::access(0, {d(1), d(0) + d(2)}),
                             Node::access(1, {d(1), d(2)}));
  Verdict v = verify(*s, *wrong, shapes(*s), {}, 1);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.failure.find("numeric mismatch"), std::string::npos);
}

TEST_F(DeriveTest, Z3ProvesAndRefutesObligations) {
  Obligation covers;
  covers.kind = Obligation::Covers;
  covers.what = "2*i + j in [0, 8)";
  covers.box = {{0, 4}, {0, 2}};
  covers.map = {d(0) * 2 + d(1)};
  covers.to = {{0, 8}};
  EXPECT_EQ(prove(covers), "");
  covers.to = {{0, 7}};
  EXPECT_NE(prove(covers).find("counterexample"), std::string::npos);

  Obligation zero;
  zero.kind = Obligation::ZeroRegion;
  zero.what = "row 5 of a 5-row tensor";
  zero.box = {{5, 6}, {0, 3}};
  zero.accesses = {{{d(0), d(1)}, {5, 3}}};
  EXPECT_EQ(prove(zero), "");
  zero.box = {{4, 6}, {0, 3}}; // row 4 exists
  EXPECT_NE(prove(zero).find("counterexample"), std::string::npos);
  // floordiv / mod indices.
  Obligation dm;
  dm.kind = Obligation::Covers;
  dm.what = "div/mod";
  dm.box = {{0, 10}};
  dm.map = {d(0).floorDiv(3), d(0) % 3};
  dm.to = {{0, 4}, {0, 3}};
  EXPECT_EQ(prove(dm), "");
}

TEST_F(DeriveTest, InliningChecksCornersOfThePaddingRegion) {
  // P[y0, y1] = A[y0 - y1] * B[y1 - y0] over [0,4)^2, read at P[x0-1, x1-1]
  // for x in [0,5)^2: at (-1,-1) the inlined body would read A[0]*B[0] != 0
  // where P's padding gives 0, so inlining must be refused.
  auto p = std::make_shared<Scope>();
  p->ctx = &ctx;
  p->loops = {{0, 4}, {0, 4}};
  p->padLo = {1, 1};
  p->padHi = {1, 1};
  p->srcs = {Source{0, nullptr, {4}}, Source{1, nullptr, {4}}};
  p->body = Node::binary(NodeKind::Mul, Node::access(0, {d(0) - d(1)}),
                         Node::access(1, {d(1) - d(0)}));
  auto o = std::make_shared<Scope>();
  o->ctx = &ctx;
  o->loops = {{0, 5}, {0, 5}};
  o->padLo = {0, 0};
  o->padHi = {0, 0};
  o->srcs = {Source{-1, p, p->shape()}};
  // Reading P at [x0, x1]: index 0 is P's padding row/column, and (0, 0)
  // is the corner where both are padding.
  o->body = Node::access(0, {d(0), d(1)});
  EXPECT_FALSE(inlineSource(*o, 0));
}

TEST_F(DeriveTest, BandMatchNeedsExactlyOneBandLoop) {
  // Loops b, m, u, v, x and sum k: three loops besides b and m.
  auto s = std::make_shared<Scope>();
  s->ctx = &ctx;
  s->loops = {{0, 2}, {0, 8}, {0, 2}, {0, 2}, {0, 3}};
  s->padLo.assign(5, 0);
  s->padHi.assign(5, 0);
  s->sums = {{0, 4}};
  s->srcs = {Source{0, nullptr, {2, 8, 4}}, Source{1, nullptr, {2, 8, 4}}};
  s->body = Node::binary(NodeKind::Mul, Node::access(0, {d(0), d(1), d(5)}),
                         Node::access(1, {d(0), d(1) + d(4) - 1, d(5)}));
  EXPECT_EQ(matchLibrary(*s).kind, LibKind::None);
  // With only the band loop left it is a g2bmm of width 1.
  auto g = std::make_shared<Scope>(*s);
  g->loops = {{0, 2}, {0, 8}, {0, 3}};
  g->padLo.assign(3, 0);
  g->padHi.assign(3, 0);
  g->body = Node::binary(NodeKind::Mul, Node::access(0, {d(0), d(1), d(3)}),
                         Node::access(1, {d(0), d(1) + d(2) - 1, d(3)}));
  EXPECT_EQ(matchLibrary(*g).kind, LibKind::G2bmm);
}

TEST_F(DeriveTest, SearchFindsTheMatmulFormOfALargeConv) {
  auto s = std::make_shared<Scope>();
  s->ctx = &ctx;
  // 2-D conv, 64 channels, 3x3, 56x56 (ResNet layer1 shape).
  s->loops = {{0, 1}, {0, 64}, {0, 56}, {0, 56}};
  s->padLo = {0, 0, 0, 0};
  s->padHi = {0, 0, 0, 0};
  s->sums = {{0, 64}, {0, 3}, {0, 3}};
  s->srcs = {Source{0, nullptr, {1, 64, 56, 56}}, Source{1, nullptr, {64, 64, 3, 3}}};
  s->body = Node::binary(
      NodeKind::Mul,
      Node::access(0, {d(0), d(4), d(2) + d(5) - 1, d(3) + d(6) - 1}),
      Node::access(1, {d(1), d(4), d(5), d(6)}));
  CostModel m = CostModel::forTarget("cuda");
  SearchOptions o;
  o.maxDepth = 4;
  o.timeBudget = 30;
  SearchResult r = search(s, m, o);
  ASSERT_FALSE(r.best.empty());
  EXPECT_LT(r.best.front().cost, r.original.cost / 2);
  std::vector<std::string> stages;
  m.cost(*r.best.front().root, &stages);
  EXPECT_NE(std::find_if(stages.begin(), stages.end(),
                         [](const std::string &x) { return x.rfind("matmul", 0) == 0; }),
            stages.end());
  EXPECT_GT(r.deduplicated, 0u);
}
} // namespace
