//===- passes/remat/Moccasin.cpp - Moccasin's constraint program on Z3 ----===//
//
// Moccasin (Bartan et al., ICML 2023) models each node v with up to C
// computations; computation i is an interval [s_v^i, e_v^i): v computed at
// s_v^i, its output retained until e_v^i. The first computation sits at v's
// place in the order; the others are optional (presence literal p_v^i).
//
// Time is a line of n*K slots: slot g*K + K-1 holds node g's first
// computation, slots g*K .. g*K + K-2 hold recomputations run just before it.
// Constraints:
//   precedence  every present computation of v starts while some present
//               computation of each input u is alive: s_u^i < s_v^j < e_u^i;
//   memory      at every start time, the sizes of the alive computations sum
//               to at most the budget (Z3 has no cumulative constraint, so
//               the sum is checked at each start, with pairwise "alive at"
//               literals in pseudo-boolean constraints);
//   distinct    present computations start at distinct slots;
//   objective   sum of d_v over present recomputations, minimised by
//               iterative tightening (an anytime search: every improvement is
//               kept, and the time limit returns the best one).
// The search is warm-started with the greedy schedule, given a quarter of the
// time for randomized restarts (its cost is the first upper bound, and it
// fills the parts not being solved). Graphs larger than
// `maxWindow` nodes are decomposed: windows of consecutive nodes are solved
// in turn with every other computation fixed to the incumbent (a large
// neighbourhood search), until the time limit or no window improves.
//
//===----------------------------------------------------------------------===//

#include "Schedule.h"

#include <z3++.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

namespace tessera::remat {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// A computation on the slot line: fixed (from the incumbent) or variable.
struct Copy {
  int node = 0;
  bool fixed = true;
  bool base = false;
  int sFix = 0, eFix = 0;          // fixed copies
  int sLo = 0, sHi = 0, eLo = 0, eHi = 0; // variable domains (inclusive)
  int var = -1;                    // index into the variable arrays
};

/// The incumbent schedule on the slot line.
struct Timeline {
  int K = 2;
  std::vector<int> stepTime; // slot of each step
  int end = 0;               // n*K
};

Timeline placeOnSlots(const Graph &g, const Schedule &s, int extra) {
  Timeline t;
  const int n = static_cast<int>(g.size());
  // Recomputations before node g's first computation go to g's group.
  std::vector<bool> seen(n, false);
  int gap = 0, maxGap = 0;
  for (const Step &st : s.steps) {
    if (!seen[st.node]) {
      seen[st.node] = true;
      maxGap = std::max(maxGap, gap);
      gap = 0;
    } else {
      ++gap;
    }
  }
  t.K = std::max(2, maxGap + extra + 1);
  std::fill(seen.begin(), seen.end(), false);
  // Steps are in order; first computations appear in node order.
  std::vector<int> pending;
  for (size_t k = 0; k < s.steps.size(); ++k) {
    const Step &st = s.steps[k];
    if (!seen[st.node]) {
      seen[st.node] = true;
      for (size_t i = 0; i < pending.size(); ++i)
        t.stepTime[pending[i]] = st.node * t.K + static_cast<int>(i);
      pending.clear();
      t.stepTime.push_back(st.node * t.K + t.K - 1);
    } else {
      pending.push_back(static_cast<int>(t.stepTime.size()));
      t.stepTime.push_back(-1);
    }
  }
  // Trailing recomputations (only outputs could need them; none are made).
  for (size_t i = 0; i < pending.size(); ++i)
    t.stepTime[pending[i]] = n * t.K - 1 - static_cast<int>(pending.size()) +
                             static_cast<int>(i);
  t.end = n * t.K;
  return t;
}

/// Turns copies (node, start, end) on the slot line back into steps.
Schedule toSchedule(std::vector<std::array<int, 3>> copies) {
  std::sort(copies.begin(), copies.end(),
            [](const auto &a, const auto &b) { return a[1] < b[1]; });
  std::vector<int> starts;
  for (const auto &c : copies)
    starts.push_back(c[1]);
  Schedule s;
  for (const auto &c : copies) {
    int endStep = static_cast<int>(
        std::lower_bound(starts.begin(), starts.end(), c[2]) - starts.begin());
    s.steps.push_back({c[0], endStep});
  }
  return s;
}

struct WindowResult {
  bool improved = false;
  bool optimal = false; // unsat below the best (for this window)
  Schedule schedule;
};

/// Solves the window `freeNodes` (all copies of those nodes variable), with
/// every other computation fixed to `inc`. `incumbentCost` is the cost of
/// `inc`; only strictly cheaper schedules are returned.
WindowResult solveWindow(const Graph &g, const SolveOptions &opts,
                         const Schedule *inc, const std::vector<bool> &isFree,
                         double seconds, double costUnit, int64_t memUnit) {
  WindowResult res;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, seconds)));
  auto late = [&] { return Clock::now() > deadline; };
  const int n = static_cast<int>(g.size());
  const int C = std::max(1, opts.copies);
  Timeline tl;
  if (inc)
    tl = placeOnSlots(g, *inc, C + 1);
  else {
    tl.K = std::max(C + 1, 4);
    tl.end = n * tl.K;
  }
  const int K = tl.K, T = tl.end;
  auto baseTime = [&](int v) { return v * K + K - 1; };

  // Computations per node: C, or as many as the incumbent uses (up to 6),
  // so that the incumbent restricted to the window is itself a solution.
  std::vector<int> copiesOf(n, C);
  if (inc) {
    std::vector<int> count(n, 0);
    for (const Step &st : inc->steps)
      ++count[st.node];
    for (int v = 0; v < n; ++v)
      copiesOf[v] = std::max(C, std::min(count[v], 6));
  }
  std::vector<int> qcost(n), qmem(n);
  for (int v = 0; v < n; ++v) {
    qcost[v] = static_cast<int>(std::llround(g.nodes[v].cost / costUnit));
    qmem[v] = static_cast<int>((g.nodes[v].bytes + memUnit - 1) / memUnit);
  }
  const int64_t qbudget = opts.budget / memUnit;

  // Fixed copies: every incumbent step of a node outside the window.
  std::vector<Copy> copies;
  std::vector<int> lastFixedStart(n, -1);
  if (inc) {
    for (size_t k = 0; k < inc->steps.size(); ++k) {
      const Step &st = inc->steps[k];
      if (isFree[st.node])
        continue;
      Copy c;
      c.node = st.node;
      c.fixed = true;
      c.sFix = tl.stepTime[k];
      c.eFix = st.end == static_cast<int>(inc->steps.size())
                   ? T
                   : tl.stepTime[st.end];
      c.base = c.sFix == baseTime(st.node);
      lastFixedStart[st.node] = std::max(lastFixedStart[st.node], c.sFix);
      copies.push_back(c);
    }
  }
  // Latest time a computation of v may start (reverse order), and the latest
  // time v's output may be read.
  std::vector<int> lastStart(n), lastUse(n);
  for (int v = n - 1; v >= 0; --v) {
    int use = -1;
    for (int w : g.nodes[v].succs)
      use = std::max(use, lastStart[w]);
    lastUse[v] = use;
    if (!isFree[v])
      lastStart[v] = lastFixedStart[v];
    else if (g.nodes[v].output || use < 0)
      lastStart[v] = baseTime(v);
    else
      lastStart[v] = std::max(baseTime(v), use - 1);
  }

  z3::context ctx;
  z3::solver solver(ctx);
  z3::params params(ctx);
  params.set("timeout", static_cast<unsigned>(std::max(1.0, seconds * 1000)));
  solver.set(params);

  std::vector<z3::expr> S, E, P; // per variable copy
  auto addVar = [&](Copy &c, const std::string &tag) {
    c.var = static_cast<int>(S.size());
    std::string id = std::to_string(c.node) + "_" + tag;
    S.push_back(c.base ? ctx.int_val(c.sFix) : ctx.int_const(("s" + id).c_str()));
    E.push_back(c.eLo == c.eHi ? ctx.int_val(c.eLo)
                               : ctx.int_const(("e" + id).c_str()));
    P.push_back(c.base ? ctx.bool_val(true) : ctx.bool_const(("p" + id).c_str()));
  };

  z3::expr_vector costTerms(ctx);
  std::vector<int> costCoeffs;
  for (int v = 0; v < n; ++v) {
    if (!isFree[v])
      continue;
    const Node &node = g.nodes[v];
    Copy b;
    b.node = v;
    b.fixed = false;
    b.base = true;
    b.sFix = b.sLo = b.sHi = baseTime(v);
    b.eLo = baseTime(v) + 1;
    b.eHi = node.output ? T : std::max(b.eLo, lastUse[v] + 1);
    if (node.output)
      b.eLo = T;
    addVar(b, "0");
    if (b.eLo != b.eHi)
      solver.add(E[b.var] >= b.eLo && E[b.var] <= b.eHi);
    copies.push_back(b);
    // Recomputations: after v's own slot, before its last use, never in a
    // slot that holds a first computation.
    int lo = (v + 1) * K, hi = lastUse[v] - 1;
    if (node.output || hi < lo)
      continue;
    int prevVar = -1;
    for (int i = 1; i < copiesOf[v]; ++i) {
      Copy r;
      r.node = v;
      r.fixed = false;
      r.sLo = lo;
      r.sHi = hi;
      r.eLo = lo + 1;
      r.eHi = lastUse[v] + 1;
      addVar(r, std::to_string(i));
      z3::expr grp = ctx.int_const(("g" + std::to_string(v) + "_" +
                                    std::to_string(i)).c_str());
      z3::expr off = ctx.int_const(("r" + std::to_string(v) + "_" +
                                    std::to_string(i)).c_str());
      solver.add(S[r.var] == grp * K + off);
      solver.add(off >= 0 && off <= K - 2);
      solver.add(S[r.var] >= lo && S[r.var] <= hi);
      solver.add(E[r.var] > S[r.var] && E[r.var] <= r.eHi);
      if (prevVar >= 0) { // symmetry: copies in order, present first
        solver.add(z3::implies(P[r.var], P[prevVar]));
        solver.add(z3::implies(P[r.var], S[prevVar] < S[r.var]));
      }
      prevVar = r.var;
      costTerms.push_back(P[r.var]);
      costCoeffs.push_back(std::max(1, qcost[v]));
      copies.push_back(r);
    }
  }

  // The time range the window can change; memory outside it is the
  // incumbent's, already within the budget.
  int lo = T, hi = 0;
  for (const Copy &c : copies)
    if (!c.fixed) {
      lo = std::min(lo, c.sLo);
      hi = std::max(hi, c.eHi);
    }

  // Copies of each node, for precedence.
  std::vector<std::vector<int>> ofNode(n);
  for (size_t i = 0; i < copies.size(); ++i)
    ofNode[copies[i].node].push_back(static_cast<int>(i));

  auto startOf = [&](const Copy &c) {
    return c.fixed ? ctx.int_val(c.sFix) : S[c.var];
  };
  const z3::expr trueExpr = ctx.bool_val(true);
  // "Copy d is alive at time t": s_d < t < e_d (t is another copy's start).
  auto aliveAt = [&](const Copy &d, const z3::expr &t, int tLo,
                     int tHi) -> std::optional<z3::expr> {
    int dsLo = d.fixed ? d.sFix : d.sLo, dsHi = d.fixed ? d.sFix : d.sHi;
    int deHi = d.fixed ? d.eFix : d.eHi;
    if (dsLo >= tHi || deHi <= tLo)
      return std::nullopt; // never
    if (d.fixed && tLo == tHi) // both constant: decided here, no solver terms
      return d.sFix < tLo && d.eFix > tLo ? std::optional(trueExpr)
                                          : std::nullopt;
    z3::expr lit = ctx.bool_val(true);
    if (!(dsHi < tLo))
      lit = lit && startOf(d) < t;
    int deLo = d.fixed ? d.eFix : d.eLo;
    if (!(deLo > tHi))
      lit = lit && (d.fixed ? ctx.int_val(d.eFix) : E[d.var]) > t;
    if (!d.fixed && !d.base)
      lit = lit && P[d.var];
    return lit.simplify();
  };

  // Precedence: every computation whose start is variable, or which reads a
  // variable node, needs each input alive at its start.
  for (const Copy &c : copies) {
    if (late())
      return res;
    const Node &node = g.nodes[c.node];
    int tLo = c.fixed ? c.sFix : c.sLo, tHi = c.fixed ? c.sFix : c.sHi;
    z3::expr t = startOf(c);
    for (int u : node.preds) {
      if (c.fixed && !isFree[u])
        continue; // both fixed: the incumbent already satisfies it
      z3::expr_vector any(ctx);
      for (int di : ofNode[u])
        if (auto lit = aliveAt(copies[di], t, tLo, tHi))
          any.push_back(*lit);
      z3::expr need = any.empty() ? ctx.bool_val(false) : z3::mk_or(any);
      if (!c.fixed && !c.base)
        solver.add(z3::implies(P[c.var], need));
      else
        solver.add(need);
    }
  }

  // Distinct starts for present recomputations (and none on a fixed one).
  std::vector<int> fixedStarts;
  for (const Copy &c : copies)
    if (c.fixed && !c.base)
      fixedStarts.push_back(c.sFix);
  std::sort(fixedStarts.begin(), fixedStarts.end());
  for (size_t i = 0; i < copies.size(); ++i) {
    const Copy &a = copies[i];
    if (a.fixed || a.base)
      continue;
    if (late())
      return res;
    for (auto it = std::lower_bound(fixedStarts.begin(), fixedStarts.end(), a.sLo);
         it != fixedStarts.end() && *it <= a.sHi; ++it)
      solver.add(z3::implies(P[a.var], S[a.var] != *it));
    for (size_t j = i + 1; j < copies.size(); ++j) {
      const Copy &b = copies[j];
      if (b.fixed || b.base || b.node == a.node || b.sLo > a.sHi ||
          a.sLo > b.sHi)
        continue;
      solver.add(z3::implies(P[a.var] && P[b.var], S[a.var] != S[b.var]));
    }
  }

  if (late())
    return res; // building alone used the slice: no solve
  // Memory at every start inside the window's range.
  for (const Copy &c : copies) {
    if (late())
      return res;
    int tLo = c.fixed ? c.sFix : c.sLo, tHi = c.fixed ? c.sFix : c.sHi;
    if (tHi < lo || tLo >= hi)
      continue;
    z3::expr t = startOf(c);
    z3::expr_vector lits(ctx);
    std::vector<int> coeffs;
    int64_t constant = qmem[c.node];
    for (const Copy &d : copies) {
      if (&d == &c)
        continue;
      auto lit = aliveAt(d, t, tLo, tHi);
      if (!lit)
        continue;
      if (lit->is_true())
        constant += qmem[d.node];
      else if (!lit->is_false()) {
        lits.push_back(*lit);
        coeffs.push_back(qmem[d.node]);
      }
    }
    int64_t bound = qbudget - constant;
    z3::expr fits = bound < 0 ? ctx.bool_val(false)
                    : lits.empty()
                        ? ctx.bool_val(true)
                        : z3::pble(lits, coeffs.data(),
                                   static_cast<int>(std::min<int64_t>(bound, INT32_MAX)));
    if (!c.fixed && !c.base)
      solver.add(z3::implies(P[c.var], fits));
    else
      solver.add(fits);
  }

  // Upper bound: the incumbent's recomputations inside the window.
  int64_t incWindowCost = -1;
  if (inc) {
    incWindowCost = 0;
    std::vector<bool> seen(n, false);
    for (const Step &st : inc->steps) {
      if (seen[st.node] && isFree[st.node])
        incWindowCost += std::max(1, qcost[st.node]);
      seen[st.node] = true;
    }
  }

  int64_t bound = incWindowCost; // strict: cost < bound
  while (true) {
    double left =
        std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0.05)
      break;
    solver.push();
    if (bound >= 0) {
      if (bound == 0) {
        solver.pop();
        res.optimal = true;
        break;
      }
      if (!costTerms.empty())
        solver.add(z3::pble(costTerms, costCoeffs.data(),
                            static_cast<int>(std::min<int64_t>(bound - 1, INT32_MAX))));
      else
        solver.add(ctx.bool_val(false));
    }
    z3::params p(ctx);
    p.set("timeout", static_cast<unsigned>(left * 1000));
    solver.set(p);
    z3::check_result r = solver.check();
    if (r == z3::unsat) {
      solver.pop();
      res.optimal = true;
      break;
    }
    if (r != z3::sat) {
      solver.pop();
      break;
    }
    z3::model m = solver.get_model();
    std::vector<std::array<int, 3>> out;
    int64_t cost = 0;
    for (const Copy &c : copies) {
      if (c.fixed) {
        out.push_back({c.node, c.sFix, c.eFix});
        continue;
      }
      if (!m.eval(P[c.var], true).is_true())
        continue;
      int s = m.eval(S[c.var], true).get_numeral_int();
      int e = m.eval(E[c.var], true).get_numeral_int();
      out.push_back({c.node, s, e});
      if (!c.base)
        cost += std::max(1, qcost[c.node]);
    }
    solver.pop();
    res.schedule = toSchedule(std::move(out));
    res.improved = true;
    bound = cost;
  }
  return res;
}

} // namespace

SolveResult solveMoccasin(const Graph &g, const SolveOptions &opts) {
  auto start = Clock::now();
  SolveResult res;
  res.method = Method::Moccasin;
  const int n = static_cast<int>(g.size());
  auto log = [&](const std::string &line) {
    if (opts.log)
      opts.log(line);
  };
  if (n == 0) {
    res.optimal = true;
    return res;
  }
  // No recomputation needed: optimal at once.
  Schedule plain = noRemat(g);
  if (evaluate(g, plain).peak <= opts.budget) {
    res.schedule = plain;
    res.optimal = true;
    res.bound = g.totalCost();
    res.note = "fits without recomputation";
    return res;
  }
  if (peakLowerBound(g) > opts.budget) {
    res.note = "budget below the lower bound";
    return res;
  }
  std::optional<Schedule> inc;
  if (opts.warmStart) {
    Schedule s;
    if (greedy(g, opts.budget, s, kWarmStartShare * opts.timeLimit))
      inc = s;
  }
  double maxCost = 0;
  for (const Node &v : g.nodes)
    maxCost = std::max(maxCost, v.cost);
  const double costUnit = maxCost > 0 ? maxCost / 10000.0 : 1.0;
  const int64_t memUnit =
      std::max<int64_t>(1, (opts.budget + 99999) / 100000);

  if (n <= opts.maxWindow || !inc) {
    if (!inc && n > opts.maxWindow) {
      res.note = "no warm start for a graph of " + std::to_string(n) +
                 " nodes (window " + std::to_string(opts.maxWindow) + ")";
      return res;
    }
    std::vector<bool> all(n, true);
    WindowResult w = solveWindow(g, opts, inc ? &*inc : nullptr, all,
                                 opts.timeLimit - secondsSince(start), costUnit,
                                 memUnit);
    if (w.improved)
      res.schedule = w.schedule;
    else if (inc)
      res.schedule = *inc;
    if (!w.improved && !inc) {
      res.note = w.optimal ? "infeasible with at most " +
                                 std::to_string(opts.copies) +
                                 " computations per node"
                           : "time limit, no schedule found";
      log("moccasin: " + res.note);
      return res;
    }
    res.optimal = w.optimal;
    if (w.optimal)
      res.bound = evaluate(g, res.schedule).cost;
    res.note = w.optimal ? "optimal (at most " + std::to_string(opts.copies) +
                               " computations per node)"
               : w.improved ? "time limit" : "time limit, warm start kept";
    log("moccasin: " + res.note);
    return res;
  }

  // Decomposition: windows of maxWindow consecutive nodes, half overlapping.
  Schedule best = *inc;
  double bestCost = evaluate(g, best).cost;
  const int W = opts.maxWindow, stride = std::max(1, W / 2);
  int passes = 0;
  bool improvedInPass = true;
  while (improvedInPass && secondsSince(start) < opts.timeLimit) {
    improvedInPass = false;
    ++passes;
    int windows = (n - W + stride - 1) / stride + 1;
    for (int w = 0; w < windows; ++w) {
      double left = opts.timeLimit - secondsSince(start);
      if (left <= 0.1)
        break;
      int a = std::min(w * stride, n - W);
      std::vector<bool> isFree(n, false);
      for (int v = a; v < a + W; ++v)
        isFree[v] = true;
      double slice = left / (windows - w);
      WindowResult r =
          solveWindow(g, opts, &best, isFree, slice, costUnit, memUnit);
      if (!r.improved)
        continue;
      Evaluation ev = evaluate(g, r.schedule);
      if (ev.valid && ev.peak <= opts.budget && ev.cost < bestCost - 1e-12) {
        std::ostringstream os;
        os << "moccasin: window [" << a << ", " << a + W << ") cost "
           << bestCost << " -> " << ev.cost;
        log(os.str());
        best = r.schedule;
        bestCost = ev.cost;
        improvedInPass = true;
      }
    }
  }
  res.schedule = best;
  res.note = "decomposed into windows of " + std::to_string(W) + " nodes, " +
             std::to_string(passes) + " pass(es)";
  return res;
}

} // namespace tessera::remat
