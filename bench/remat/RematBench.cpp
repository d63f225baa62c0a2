//===- bench/remat/RematBench.cpp - Rematerialization methods, one harness -===//
//
// Runs every rematerialization method (no-remat, Chen sqrt(n), greedy,
// Moccasin on Z3, Checkmate's MILP on CBC) on the same graphs and budgets,
// and prints solve time, compute overhead (total compute / no-remat compute)
// and peak for each. Graphs: networkx node-link JSON files (the Moccasin and
// Checkmate instances, and the training graphs `tessera-compile
// --remat-dump-graph` writes), and random layered graphs generated here.
//
//===----------------------------------------------------------------------===//

#include "passes/remat/Schedule.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

using namespace tessera::remat;

namespace {

void usage() {
  std::cout <<
R"(usage: tessera-remat-bench [options] [GRAPH.json ...]
Runs every rematerialization method on each graph at each budget.
  --random=N[,N...]     also random layered graphs of N nodes (seed 0)
  --budgets=F[,F...]    budgets as fractions of the no-remat peak (0.7,0.8,0.9)
  --methods=M[,M...]    no-remat,chen-sqrt-n,greedy,greedy-restarts,
                        moccasin,checkmate-milp (all)
  --time-limit=S        seconds per exact solve (60)
  --copies=C            Moccasin's computations per node (2)
  --window=W            nodes per Z3 window (120)
  --json=FILE           also write the results as JSON
  --verbose             solver progress on stderr
)";
}

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

std::string fmt(double v, int prec = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> files;
  std::vector<int> randoms;
  std::vector<double> budgets = {0.7, 0.8, 0.9};
  std::vector<Method> methods = {Method::NoRemat,  Method::Chen,
                                 Method::Greedy,   Method::GreedyRestarts,
                                 Method::Moccasin, Method::Checkmate};
  SolveOptions base;
  base.timeLimit = 60;
  std::string jsonPath;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char *flag) -> const char * {
      size_t len = std::strlen(flag);
      return a.compare(0, len, flag) == 0 ? a.c_str() + len : nullptr;
    };
    try {
      if (a == "--help" || a == "-h") {
        usage();
        return 0;
      } else if (auto v = val("--random=")) {
        for (auto &s : split(v))
          randoms.push_back(std::stoi(s));
      } else if (auto v = val("--budgets=")) {
        budgets.clear();
        for (auto &s : split(v))
          budgets.push_back(std::stod(s));
      } else if (auto v = val("--methods=")) {
        methods.clear();
        for (auto &s : split(v)) {
          Method m;
          if (!parseMethod(s, m)) {
            std::cerr << "error: unknown method '" << s << "'\n";
            return 2;
          }
          methods.push_back(m);
        }
      } else if (auto v = val("--time-limit=")) {
        base.timeLimit = std::stod(v);
      } else if (auto v = val("--copies=")) {
        base.copies = std::stoi(v);
      } else if (auto v = val("--window=")) {
        base.maxWindow = std::stoi(v);
      } else if (auto v = val("--json=")) {
        jsonPath = v;
      } else if (a == "--verbose") {
        verbose = true;
      } else if (!a.empty() && a[0] == '-') {
        std::cerr << "error: unknown option '" << a << "' (see --help)\n";
        return 2;
      } else {
        files.push_back(a);
      }
    } catch (const std::exception &) {
      std::cerr << "error: bad value in '" << a << "'\n";
      return 2;
    }
  }
  if (verbose)
    base.log = [](const std::string &l) { std::cerr << l << "\n"; };

  std::vector<Graph> graphs;
  for (const std::string &f : files) {
    Graph g;
    std::string err = Graph::readNodeLink(f, g);
    if (!err.empty()) {
      std::cerr << "error: " << err << "\n";
      return 1;
    }
    if (g.name.empty())
      g.name = f;
    graphs.push_back(std::move(g));
  }
  for (int n : randoms)
    graphs.push_back(randomLayered(n, 0));
  if (graphs.empty()) {
    usage();
    return 2;
  }

  nlohmann::json results = nlohmann::json::array();
  std::printf("%-44s %5s %6s %-15s %5s %4s %9s %9s %9s  %s\n", "graph", "n",
              "budget", "method", "fits", "opt", "time_s", "overhead",
              "peak/bud", "note");
  for (const Graph &g : graphs) {
    Evaluation plain = evaluate(g, noRemat(g));
    const double baseCost = plain.cost;
    for (double frac : budgets) {
      SolveOptions opts = base;
      opts.budget = static_cast<int64_t>(double(plain.peak) * frac);
      for (Method m : methods) {
        SolveResult r = solve(g, m, opts);
        double overhead = r.eval.valid ? r.eval.cost / baseCost : 0;
        double peakRatio = r.eval.valid ? double(r.eval.peak) / opts.budget : 0;
        std::string name = g.name.size() > 44 ? g.name.substr(0, 44) : g.name;
        std::printf("%-44s %5zu %5.0f%% %-15s %5s %4s %9.2f %9s %9s  %s\n",
                    name.c_str(), g.size(), frac * 100, methodName(m),
                    r.found ? "yes" : "no", r.optimal ? "yes" : "",
                    r.seconds, r.eval.valid ? fmt(overhead, 4).c_str() : "-",
                    r.eval.valid ? fmt(peakRatio, 3).c_str() : "-",
                    r.note.c_str());
        std::fflush(stdout);
        results.push_back({{"graph", g.name},
                           {"nodes", g.size()},
                           {"budget_fraction", frac},
                           {"budget_bytes", opts.budget},
                           {"method", methodName(m)},
                           {"fits", r.found},
                           {"optimal", r.optimal},
                           {"seconds", r.seconds},
                           {"overhead", r.eval.valid ? overhead : -1},
                           {"peak_bytes", r.eval.valid ? r.eval.peak : -1},
                           {"recomputes", r.eval.recomputes},
                           {"cost_lower_bound_ratio", r.bound / baseCost},
                           {"note", r.note}});
      }
    }
  }
  if (!jsonPath.empty()) {
    std::ofstream out(jsonPath);
    out << results.dump(1) << "\n";
  }
  return 0;
}
