//===- passes/remat/Checkmate.cpp - Checkmate's MILP through CBC ----------===//
//
// Checkmate (Jain et al., MLSys 2020): stage t (one per node, in order)
// computes node t and any recomputations before it.
//   R[t,i]       node i computed in stage t (i <= t; R[t,t] = 1)
//   S[t,i]       i's output in memory at the start of stage t (i < t)
//   FREE[t,i,k]  i's output freed right after computing k in stage t, for
//                i an input of k or k itself
//   U[t,k]       memory after computing k in stage t (continuous, <= budget)
// with R[t,j] <= R[t,i] + S[t,i] for every edge (i,j), S[t+1,i] <= R[t,i] +
// S[t,i], U accounting U[t,k+1] = U[t,k] - sum m_i FREE[t,i,k] + m_{k+1}
// R[t,k+1], and FREE linearised through its "hazards" (k not computed, i
// kept into the next stage, a later user of i computed in this stage).
// Objective: sum d_i R[t,i]. O(n^2) booleans: exact, but slow on large
// graphs; CBC is run as a separate process (the command-line solver from
// Debian's coinor-cbc) under a hard time limit, warm-started with the greedy
// schedule (preprocessing off, as CBC requires for a MIP start).
//
//===----------------------------------------------------------------------===//

#include "Schedule.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace tessera::remat {
namespace {

std::string R(int t, int i) { return "R_" + std::to_string(t) + "_" + std::to_string(i); }
std::string S(int t, int i) { return "S_" + std::to_string(t) + "_" + std::to_string(i); }
std::string F(int t, int i, int k) {
  return "F_" + std::to_string(t) + "_" + std::to_string(i) + "_" + std::to_string(k);
}
std::string U(int t, int k) { return "U_" + std::to_string(t) + "_" + std::to_string(k); }

/// An LP-format linear expression, wrapped so no line gets long.
class Expr {
public:
  Expr &add(double c, const std::string &v) {
    if (c == 0)
      return *this;
    std::ostringstream os;
    os.precision(17);
    const bool first = terms++ == 0;
    os << (c < 0 ? " - " : first ? " " : " + ");
    if (std::fabs(c) != 1)
      os << std::fabs(c) << " ";
    os << v;
    if (terms % 8 == 0)
      os << "\n  ";
    text += os.str();
    return *this;
  }
  std::string text;
  int terms = 0;
};

/// The steps of a schedule with the tightest retention: each copy is kept
/// until its last read before the node is computed again (outputs: to the
/// end).
Schedule withTightRetention(const Graph &g, const std::vector<int> &order) {
  Schedule s;
  const int k = static_cast<int>(order.size());
  std::vector<int> current(g.size(), -1);
  for (int j = 0; j < k; ++j) {
    int v = order[j];
    for (int p : g.nodes[v].preds)
      if (current[p] >= 0)
        s.steps[current[p]].end = j + 1;
    current[v] = j;
    s.steps.push_back({v, j + 1});
  }
  for (size_t v = 0; v < g.size(); ++v)
    if (g.nodes[v].output && current[v] >= 0)
      s.steps[current[v]].end = k;
  return s;
}

int runWithLimit(const std::vector<std::string> &argv, const std::string &out,
                 double seconds) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    FILE *f = std::freopen(out.c_str(), "w", stdout);
    (void)f;
    std::vector<char *> args;
    for (const std::string &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  // CBC may overrun its own limit in root cuts: enforce a hard one.
  const double hard = seconds + 10;
  for (double waited = 0;; waited += 0.05) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (waited > hard) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -2;
    }
    usleep(50000);
  }
}

} // namespace

SolveResult solveCheckmate(const Graph &g, const SolveOptions &opts) {
  SolveResult res;
  res.method = Method::Checkmate;
  const int n = static_cast<int>(g.size());
  // Size guard: stages x (nodes + edges) FREE variables.
  int64_t edges = 0;
  for (const Node &v : g.nodes)
    edges += static_cast<int64_t>(v.preds.size());
  const int64_t vars = static_cast<int64_t>(n) * (n + edges) + int64_t(n) * n;
  if (vars > 600000) {
    res.note = "MILP too large (" + std::to_string(vars) + " variables)";
    return res;
  }
  if (peakLowerBound(g) > opts.budget) {
    res.note = "budget below the lower bound";
    return res;
  }

  char dirTemplate[] = "/tmp/tessera-milp-XXXXXX";
  if (!mkdtemp(dirTemplate)) {
    res.note = "cannot create a temporary directory";
    return res;
  }
  const std::string dir = dirTemplate;
  const std::string lp = dir + "/checkmate.lp", sol = dir + "/sol.txt",
                    start = dir + "/start.txt", log = dir + "/cbc.log";
  // Memory in units of budget / 1e4 keeps coefficients well scaled; the
  // budget is shaded so that rounding never admits a peak above it.
  const double unit = std::max(1.0, double(opts.budget) / 1e4);
  auto mem = [&](int i) { return double(g.nodes[i].bytes) / unit; };
  const double cap = double(opts.budget) / unit * (1 - 1e-7);

  std::ofstream os(lp);
  Expr obj;
  for (int t = 0; t < n; ++t)
    for (int i = 0; i <= t; ++i)
      obj.add(g.nodes[i].cost, R(t, i));
  os << "Minimize\n obj:" << obj.text << "\nSubject To\n";
  int c = 0;
  auto row = [&](const Expr &e, const char *sense, double rhs) {
    os << " c" << c++ << ":" << e.text << " " << sense << " " << rhs << "\n";
  };
  std::vector<std::string> binaries, continuous;
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i <= t; ++i)
      binaries.push_back(R(t, i));
    for (int i = 0; i < t; ++i)
      binaries.push_back(S(t, i));
    // Inputs present.
    for (int j = 0; j <= t; ++j)
      for (int i : g.nodes[j].preds) {
        Expr e;
        e.add(1, R(t, j)).add(-1, R(t, i)).add(-1, S(t, i));
        row(e, "<=", 0);
      }
    // Kept only if present.
    if (t + 1 < n)
      for (int i = 0; i <= t; ++i) {
        Expr e;
        e.add(1, S(t + 1, i)).add(-1, R(t, i));
        if (i < t)
          e.add(-1, S(t, i));
        row(e, "<=", 0);
      }
    // Outputs stay.
    for (int i = 0; i < t; ++i)
      if (g.nodes[i].output) {
        Expr e;
        e.add(1, S(t, i));
        row(e, "=", 1);
      }
    // Memory accounting.
    for (int k = 0; k <= t; ++k) {
      continuous.push_back(U(t, k));
      Expr e; // U[t,k] - (U[t,k-1] - freed(k-1)) - m_k R[t,k] = 0
      e.add(1, U(t, k));
      if (k == 0) {
        for (int i = 0; i < t; ++i)
          e.add(-mem(i), S(t, i));
      } else {
        e.add(-1, U(t, k - 1));
        std::vector<int> deps = g.nodes[k - 1].preds;
        deps.push_back(k - 1);
        for (int i : deps)
          e.add(mem(i), F(t, i, k - 1));
      }
      e.add(-mem(k), R(t, k));
      row(e, "=", 0);
      Expr capRow;
      capRow.add(1, U(t, k));
      row(capRow, "<=", cap);
      // FREE[t,i,k] for i in deps(k) + {k}.
      std::vector<int> deps = g.nodes[k].preds;
      deps.push_back(k);
      for (int i : deps) {
        binaries.push_back(F(t, i, k));
        if (g.nodes[i].output) {
          Expr e0;
          e0.add(1, F(t, i, k));
          row(e0, "=", 0);
          continue;
        }
        Expr hz; // hazards = (1 - R[t,k]) + S[t+1,i] + sum R[t,j], j > k user of i
        int maxH = 1;
        hz.add(-1, R(t, k));
        if (t + 1 < n) {
          hz.add(1, S(t + 1, i));
          ++maxH;
        }
        for (int j : g.nodes[i].succs)
          if (j > k && j <= t) {
            hz.add(1, R(t, j));
            ++maxH;
          }
        // 1 - FREE <= hazards  ->  FREE + hazards >= 1   (constant 1 of
        // hazards moved to the right: FREE + hz >= 0)
        Expr a = hz;
        a.add(1, F(t, i, k));
        row(a, ">=", 0);
        // maxH (1 - FREE) >= hazards -> maxH FREE + hz <= maxH - 1
        Expr b = hz;
        b.add(maxH, F(t, i, k));
        row(b, "<=", maxH - 1);
      }
    }
  }
  os << "Bounds\n";
  for (int t = 0; t < n; ++t)
    os << " " << R(t, t) << " = 1\n";
  for (const std::string &u : continuous)
    os << " 0 <= " << u << " <= " << cap << "\n";
  os << "Binaries\n";
  for (size_t i = 0; i < binaries.size(); ++i)
    os << " " << binaries[i] << ((i + 1) % 8 == 0 ? "\n" : "");
  os << "\nEnd\n";
  os.close();

  std::vector<std::string> argv = {opts.cbcPath, lp};
  // A quarter of the time goes to the warm start (greedy with restarts).
  double cbcSeconds = opts.timeLimit;
  if (opts.warmStart) {
    Schedule inc;
    const auto t0 = std::chrono::steady_clock::now();
    bool have = greedy(g, opts.budget, inc, kWarmStartShare * opts.timeLimit);
    cbcSeconds -= std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
    if (have) {
      // Stage of each step: recomputations belong to the next first
      // computation's stage. Within a stage CBC needs increasing order;
      // a stage that repeats a node is left out of the start.
      std::ofstream ms(start);
      ms << "warm start\n";
      std::vector<bool> seen(n, false);
      std::map<std::pair<int, int>, int> rv;
      std::vector<int> pendingNodes;
      for (const Step &st : inc.steps) {
        if (!seen[st.node]) {
          seen[st.node] = true;
          for (int v : pendingNodes)
            rv[{st.node, v}] = 1;
          rv[{st.node, st.node}] = 1;
          pendingNodes.clear();
        } else {
          pendingNodes.push_back(st.node);
        }
      }
      int idx = 0;
      for (int t = 0; t < n; ++t)
        for (int i = 0; i <= t; ++i)
          ms << idx++ << " " << R(t, i) << " " << (rv.count({t, i}) ? 1 : 0)
             << "\n";
      ms.close();
      argv.insert(argv.end(), {"preprocess", "off", "mips", start});
    }
  }
  std::ostringstream secs;
  secs << std::max(1.0, cbcSeconds);
  argv.insert(argv.end(), {"sec", secs.str(), "threads", "1", "solve", "solu", sol});
  int rc = runWithLimit(argv, log, std::max(1.0, cbcSeconds));
  auto cleanup = [&] {
    for (const std::string &f : {lp, sol, start, log})
      std::remove(f.c_str());
    rmdir(dir.c_str());
  };
  if (rc == 127 || rc == -1) {
    res.note = "cannot run '" + opts.cbcPath + "' (install coinor-cbc)";
    cleanup();
    return res;
  }
  std::ifstream in(sol);
  std::string header;
  if (rc == -2 || !in || !std::getline(in, header)) {
    res.note = rc == -2 ? "CBC killed at the hard time limit" : "CBC wrote no solution";
    cleanup();
    return res;
  }
  if (header.find("Infeasible") != std::string::npos ||
      header.find("no integer solution") != std::string::npos ||
      header.find("objective value") == std::string::npos) {
    res.note = "CBC: " + header;
    cleanup();
    return res;
  }
  res.optimal = header.rfind("Optimal", 0) == 0;
  // Steps: each stage's computations in node order.
  std::vector<std::vector<int>> stage(n);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string idx, name;
    double value = 0;
    if (line.rfind("**", 0) == 0) // infeasibility markers
      ls >> idx;
    ls >> idx >> name >> value;
    if (name.rfind("R_", 0) != 0 || value < 0.5)
      continue;
    int t = 0, i = 0;
    if (std::sscanf(name.c_str(), "R_%d_%d", &t, &i) == 2 && t < n)
      stage[t].push_back(i);
  }
  std::vector<int> order;
  for (auto &st : stage) {
    std::sort(st.begin(), st.end());
    order.insert(order.end(), st.begin(), st.end());
  }
  res.schedule = withTightRetention(g, order);
  // CBC's proven lower bound, from its log.
  std::ifstream logIn(log);
  while (std::getline(logIn, line)) {
    double v = 0;
    if (std::sscanf(line.c_str(), "Lower bound: %lf", &v) == 1 ||
        std::sscanf(line.c_str(), "Lower bound:%lf", &v) == 1)
      res.bound = v;
  }
  if (res.optimal)
    res.bound = evaluate(g, res.schedule).cost;
  res.note = res.optimal ? "optimal" : "time limit: " + header;
  cleanup();
  return res;
}

} // namespace tessera::remat
