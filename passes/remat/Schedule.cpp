//===- passes/remat/Schedule.cpp - Schedules, evaluation, baselines -------===//

#include "Schedule.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cassert>
#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <set>

namespace tessera::remat {

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

std::string Graph::finalize() {
  for (Node &n : nodes)
    n.succs.clear();
  for (size_t v = 0; v < nodes.size(); ++v) {
    Node &n = nodes[v];
    std::sort(n.preds.begin(), n.preds.end());
    n.preds.erase(std::unique(n.preds.begin(), n.preds.end()), n.preds.end());
    for (int p : n.preds) {
      if (p < 0 || static_cast<size_t>(p) >= v)
        return "node " + std::to_string(v) + " ('" + n.name +
               "') has input " + std::to_string(p) +
               ", which is not earlier in the order";
      nodes[p].succs.push_back(static_cast<int>(v));
    }
    if (n.bytes < 0 || !(n.cost >= 0))
      return "node " + std::to_string(v) + " ('" + n.name +
             "') has a negative size or cost";
  }
  return "";
}

double Graph::totalCost() const {
  double c = 0;
  for (const Node &n : nodes)
    c += n.cost;
  return c;
}

std::string Graph::readNodeLink(const std::string &path, Graph &out) {
  std::ifstream in(path);
  if (!in)
    return "cannot open '" + path + "'";
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception &e) {
    return "'" + path + "': not JSON: " + e.what();
  }
  try {
    out = Graph();
    if (j.contains("graph") && j["graph"].contains("name"))
      out.name = j["graph"]["name"].get<std::string>();
    std::map<int64_t, int> index; // id -> dense index
    std::vector<int64_t> ids;
    std::vector<Node> raw;
    // Two dialects of the format: Checkmate's graphs (id, cost_cpu,
    // cost_ram; source/target links) and the random layered graphs (name as
    // id, duration, out_cost; links keyed "0"/"1"; the order in graph.order).
    auto field = [](const nlohmann::json &o, const char *a, const char *b) {
      return o.contains(a) ? o.at(a) : o.at(b);
    };
    for (const auto &n : j.at("nodes")) {
      int64_t id = field(n, "id", "name").get<int64_t>();
      if (index.count(id))
        return "'" + path + "': duplicate node id " + std::to_string(id);
      index[id] = static_cast<int>(raw.size());
      ids.push_back(id);
      Node node;
      node.name = n.contains("name") && n["name"].is_string()
                      ? n["name"].get<std::string>()
                      : std::to_string(id);
      node.cost = field(n, "cost_cpu", "duration").get<double>();
      node.bytes = field(n, "cost_ram", "out_cost").get<int64_t>();
      // Tessera's own dumps mark the values that must stay to the end.
      if (n.contains("output"))
        node.output = n.at("output").get<bool>();
      raw.push_back(std::move(node));
    }
    const char *edgeKey = j.contains("links") ? "links" : "edges";
    for (const auto &e : j.at(edgeKey)) {
      int64_t s = field(e, "source", "0").get<int64_t>(),
              t = field(e, "target", "1").get<int64_t>();
      if (!index.count(s) || !index.count(t))
        return "'" + path + "': edge " + std::to_string(s) + " -> " +
               std::to_string(t) + " names an unknown node";
      raw[index[t]].preds.push_back(index[s]);
    }
    // The instance's own order when it gives one (ties otherwise).
    std::map<int64_t, int64_t> rank;
    if (j.contains("graph") && j["graph"].contains("order")) {
      int64_t r = 0;
      for (const auto &id : j["graph"]["order"])
        rank[id.get<int64_t>()] = r++;
    }
    for (size_t v = 0; v < raw.size(); ++v)
      if (!rank.empty() && !rank.count(ids[v]))
        return "'" + path + "': graph.order misses node " + std::to_string(ids[v]);
    if (!rank.empty())
      for (size_t v = 0; v < raw.size(); ++v)
        ids[v] = rank[ids[v]];
    // Kahn's algorithm, smallest id first: the order the instances assume.
    const size_t n = raw.size();
    std::vector<int> indeg(n, 0);
    std::vector<std::vector<int>> succ(n);
    for (size_t v = 0; v < n; ++v) {
      std::sort(raw[v].preds.begin(), raw[v].preds.end());
      raw[v].preds.erase(std::unique(raw[v].preds.begin(), raw[v].preds.end()),
                         raw[v].preds.end());
      for (int p : raw[v].preds) {
        succ[p].push_back(static_cast<int>(v));
        ++indeg[v];
      }
    }
    std::priority_queue<std::pair<int64_t, int>,
                        std::vector<std::pair<int64_t, int>>, std::greater<>>
        ready;
    for (size_t v = 0; v < n; ++v)
      if (!indeg[v])
        ready.push({ids[v], static_cast<int>(v)});
    std::vector<int> order, pos(n, -1);
    while (!ready.empty()) {
      int v = ready.top().second;
      ready.pop();
      pos[v] = static_cast<int>(order.size());
      order.push_back(v);
      for (int s : succ[v])
        if (--indeg[s] == 0)
          ready.push({ids[s], s});
    }
    if (order.size() != n)
      return "'" + path + "': the graph has a cycle";
    for (int v : order) {
      Node node = raw[v];
      for (int &p : node.preds)
        p = pos[p];
      out.nodes.push_back(std::move(node));
    }
  } catch (const std::exception &e) {
    return "'" + path + "': " + e.what();
  }
  return out.finalize();
}

/// A random layered DAG in the style of Gagrani et al. (Neural Topological
/// Ordering, App. A): layers of random width, edges to the previous layer,
/// sparse skip connections to earlier ones, random costs and sizes.
Graph randomLayered(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> width(2, std::max(2, int(std::sqrt(n))));
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> cost(1, 100), size(1, 100);
  Graph g;
  g.name = "random_layered_n" + std::to_string(n) + "_seed" + std::to_string(seed);
  std::vector<std::vector<int>> layers;
  int made = 0;
  while (made < n) {
    int w = std::min(n - made, layers.empty() ? 1 : width(rng));
    std::vector<int> layer;
    for (int i = 0; i < w; ++i) {
      Node node;
      node.name = "n" + std::to_string(made);
      node.cost = cost(rng);
      node.bytes = int64_t(size(rng)) * (1 << 20);
      if (!layers.empty()) {
        const auto &prev = layers.back();
        for (int p : prev)
          if (unit(rng) < 0.2)
            node.preds.push_back(p);
        if (node.preds.empty())
          node.preds.push_back(prev[rng() % prev.size()]);
        for (size_t l = 0; l + 1 < layers.size(); ++l)
          for (int p : layers[l])
            if (unit(rng) < 0.14 / double(layers.size()))
              node.preds.push_back(p);
      }
      g.nodes.push_back(node);
      layer.push_back(made++);
    }
    layers.push_back(layer);
  }
  std::string err = g.finalize();
  (void)err;
  assert(err.empty() && "layers only read earlier layers");
  return g;
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

Evaluation evaluate(const Graph &g, const Schedule &s) {
  Evaluation ev;
  const int n = static_cast<int>(g.size());
  const int k = static_cast<int>(s.steps.size());
  std::vector<int> maxEnd(n, -1), count(n, 0);
  std::vector<int64_t> delta(k + 1, 0);
  auto fail = [&](std::string why) {
    ev.valid = false;
    ev.error = std::move(why);
    return ev;
  };
  for (int j = 0; j < k; ++j) {
    const Step &st = s.steps[j];
    if (st.node < 0 || st.node >= n)
      return fail("step " + std::to_string(j) + " names node " +
                  std::to_string(st.node) + ", which does not exist");
    if (st.end <= j || st.end > k)
      return fail("step " + std::to_string(j) + " keeps its output until " +
                  std::to_string(st.end) + ", outside (" + std::to_string(j) +
                  ", " + std::to_string(k) + "]");
    const Node &node = g.nodes[st.node];
    for (int p : node.preds)
      if (maxEnd[p] <= j)
        return fail("step " + std::to_string(j) + " computes '" + node.name +
                    "', but its input '" + g.nodes[p].name +
                    "' is not in memory");
    maxEnd[st.node] = std::max(maxEnd[st.node], st.end);
    ++count[st.node];
    delta[j] += node.bytes;
    delta[st.end] -= node.bytes;
    ev.cost += node.cost;
  }
  for (int v = 0; v < n; ++v) {
    if (!count[v])
      return fail("node '" + g.nodes[v].name + "' is never computed");
    if (g.nodes[v].output && maxEnd[v] != k)
      return fail("output '" + g.nodes[v].name +
                  "' is not in memory at the end");
  }
  int64_t live = 0;
  ev.memory.resize(k);
  for (int j = 0; j < k; ++j) {
    live += delta[j];
    ev.memory[j] = live;
    ev.peak = std::max(ev.peak, live);
  }
  ev.recomputes = k - n;
  ev.valid = true;
  return ev;
}

int64_t peakLowerBound(const Graph &g, int *where) {
  int64_t best = 0, outputsBefore = 0;
  if (where)
    *where = -1;
  for (size_t v = 0; v < g.size(); ++v) {
    const Node &node = g.nodes[v];
    int64_t need = node.bytes + outputsBefore;
    for (int p : node.preds)
      need += g.nodes[p].output ? 0 : g.nodes[p].bytes;
    if (need > best) {
      best = need;
      if (where)
        *where = static_cast<int>(v);
    }
    if (node.output)
      outputsBefore += node.bytes;
  }
  return best;
}

//===----------------------------------------------------------------------===//
// No remat, Chen, greedy: one executor with on-demand recomputation
//===----------------------------------------------------------------------===//

Schedule noRemat(const Graph &g) {
  Schedule s;
  const int n = static_cast<int>(g.size());
  for (int v = 0; v < n; ++v) {
    const Node &node = g.nodes[v];
    int end = v + 1;
    if (!node.succs.empty())
      end = node.succs.back() + 1;
    if (node.output)
      end = n;
    s.steps.push_back({v, end});
  }
  return s;
}

namespace {

/// Computes the nodes in order, recomputing evicted inputs on demand.
class Executor {
public:
  explicit Executor(const Graph &g)
      : g(g), resident(g.size(), -1), pin(g.size(), 0) {}

  /// Position of the next base computation that reads u, INT_MAX if none
  /// (INT_MAX - 1 for outputs, which are never dead).
  int nextUse(int u) const {
    const auto &succ = g.nodes[u].succs;
    auto it = std::lower_bound(succ.begin(), succ.end(), cur);
    if (it != succ.end())
      return *it;
    return g.nodes[u].output ? INT_MAX - 1 : INT_MAX;
  }

  void release(int u) {
    schedule.steps[resident[u]].end = static_cast<int>(schedule.steps.size());
    live -= g.nodes[u].bytes;
    resident[u] = -1;
    residentSet.erase(u);
  }

  /// Computes v after making its inputs resident; evicts by `score` when the
  /// budget would be exceeded. Returns false when nothing can be evicted.
  bool compute(int v) {
    const Node &node = g.nodes[v];
    for (int p : node.preds)
      ++pin[p];
    bool ok = true;
    ++depth;
    std::vector<int> missing = missingInputs(v);
    for (int p : missing)
      if (resident[p] < 0 && !compute(p)) {
        ok = false;
        break;
      }
    --depth;
    // A base computation that fails: its inputs that were not resident are
    // the values whose eviction made it fail (largest rebuild need first).
    if (!ok && depth == 0)
      blame = missing;
    // Runaway cascades (recomputing an input evicts another one) give up.
    if (ok && schedule.steps.size() >= maxSteps)
      ok = false;
    while (ok && live + node.bytes > budget) {
      int victim = pickVictim();
      if (victim < 0)
        ok = false;
      else
        release(victim);
    }
    for (int p : node.preds)
      --pin[p];
    if (!ok)
      return false;
    resident[v] = static_cast<int>(schedule.steps.size());
    residentSet.insert(v);
    schedule.steps.push_back({v, -1});
    live += node.bytes;
    return true;
  }

  /// Extra memory that (re)computing u needs beyond what is resident now:
  /// its missing inputs are built one after the other, each held while the
  /// next is built, then u's output (Sethi-Ullman numbering with sizes,
  /// depth-limited).
  int64_t need(int u, int depth, std::vector<int64_t> &memo) const {
    if (resident[u] >= 0)
      return 0;
    if (memo[u] >= 0)
      return memo[u];
    std::vector<std::pair<int64_t, int64_t>> parts; // (need, bytes)
    for (int p : g.nodes[u].preds)
      if (resident[p] < 0)
        parts.push_back({depth > 6 ? g.nodes[p].bytes : need(p, depth + 1, memo),
                         g.nodes[p].bytes});
    std::sort(parts.begin(), parts.end(), [](auto a, auto b) {
      return a.first - a.second > b.first - b.second;
    });
    int64_t peak = 0, held = 0;
    for (auto [n, bytes] : parts) {
      peak = std::max(peak, held + n);
      held += bytes;
    }
    return memo[u] = std::max(peak, held + g.nodes[u].bytes);
  }

  /// v's non-resident inputs, the one needing the most extra memory first:
  /// building it while fewer finished inputs are held lowers the peak.
  std::vector<int> missingInputs(int v) const {
    std::vector<int> miss;
    for (int p : g.nodes[v].preds)
      if (resident[p] < 0 &&
          std::find(miss.begin(), miss.end(), p) == miss.end())
        miss.push_back(p);
    if (miss.size() < 2)
      return miss;
    std::vector<int64_t> memo(g.size(), -1);
    std::vector<int64_t> key(g.size(), 0);
    for (int p : miss)
      key[p] = need(p, 0, memo) - g.nodes[p].bytes;
    std::stable_sort(miss.begin(), miss.end(),
                     [&](int a, int b) { return key[a] > key[b]; });
    return miss;
  }

  /// What recomputing u would cost now: u plus every input that is no
  /// longer resident, recursively (depth-limited).
  double recomputeCost(int u, int depth,
                       std::vector<double> &memo) const {
    if (memo[u] >= 0)
      return memo[u];
    double c = g.nodes[u].cost;
    for (int p : g.nodes[u].preds)
      if (resident[p] < 0)
        c += depth > 8 ? g.nodes[p].cost : recomputeCost(p, depth + 1, memo);
    return memo[u] = c;
  }

  int pickVictim() const {
    int best = -1;
    double bestScore = -1;
    std::vector<double> memo(g.size(), -1.0);
    for (int u : residentSet) {
      if (pin[u] || g.nodes[u].output)
        continue;
      int next = nextUse(u);
      double dist = next == INT_MAX ? 1e30 : double(next - cur + 1);
      double bytes = double(std::max<int64_t>(g.nodes[u].bytes, 1));
      double cost = recomputeCost(u, 0, memo) + 1e-9;
      double score = 0;
      switch (scoreKind) {
      case 0: score = dist; break;
      case 1: score = dist * bytes; break;
      case 2: score = dist * bytes / cost; break;
      default: score = bytes / cost * (next == INT_MAX ? 1e30 : 1); break;
      }
      if (!bias.empty())
        score *= bias[u];
      if (score > bestScore) {
        bestScore = score;
        best = u;
      }
    }
    return best;
  }

  /// Frees every resident value with no later use (after a base step).
  void freeDead() {
    std::vector<int> dead;
    for (int u : residentSet)
      if (nextUse(u) == INT_MAX)
        dead.push_back(u);
    for (int u : dead)
      release(u);
  }

  void finish() {
    std::vector<int> left(residentSet.begin(), residentSet.end());
    for (int u : left)
      release(u);
  }

  const Graph &g;
  Schedule schedule;
  std::vector<int> resident; // step of the resident copy, or -1
  std::vector<int> pin;
  std::set<int> residentSet;
  int64_t live = 0;
  int64_t budget = std::numeric_limits<int64_t>::max();
  int cur = 0;
  int scoreKind = 0;
  std::vector<double> bias; // per-node factor on the score (restarts)
  std::vector<int> blame;   // after a failure: see compute()
  int depth = 0;
  size_t maxSteps = std::numeric_limits<size_t>::max();
};

} // namespace

Schedule chenSqrtN(const Graph &g) {
  const int n = static_cast<int>(g.size());
  const int seg = std::max(1, static_cast<int>(std::ceil(std::sqrt(n))));
  std::vector<bool> checkpoint(n, false);
  for (int v = 0; v < n; ++v)
    checkpoint[v] = (v + 1) % seg == 0 || g.nodes[v].output;
  Executor ex(g);
  for (int v = 0; v < n; ++v) {
    ex.cur = v;
    ex.compute(v);
    ex.cur = v + 1;
    ex.freeDead();
    if ((v + 1) % seg == 0) {
      std::vector<int> drop;
      for (int u : ex.residentSet)
        if (!checkpoint[u])
          drop.push_back(u);
      for (int u : drop)
        ex.release(u);
    }
  }
  ex.finish();
  return ex.schedule;
}

void tightenEnds(const Graph &g, Schedule &s) {
  const int k = static_cast<int>(s.steps.size());
  std::vector<int> latest(g.size(), -1); // step of each node's newest copy
  for (int j = 0; j < k; ++j)
    s.steps[j].end = j + 1;
  for (int j = 0; j < k; ++j) {
    for (int p : g.nodes[s.steps[j].node].preds)
      if (latest[p] >= 0)
        s.steps[latest[p]].end = j + 1;
    latest[s.steps[j].node] = j;
  }
  for (size_t v = 0; v < g.size(); ++v)
    if (g.nodes[v].output && latest[v] >= 0)
      s.steps[latest[v]].end = k;
}

void pruneRecomputes(const Graph &g, int64_t budget, Schedule &s) {
  // Candidates: recomputation steps, the most expensive first.
  std::vector<int> seen(g.size(), 0);
  std::vector<std::pair<double, int>> order;
  for (size_t j = 0; j < s.steps.size(); ++j)
    if (seen[s.steps[j].node]++)
      order.push_back({g.nodes[s.steps[j].node].cost, s.steps[j].node});
  std::sort(order.begin(), order.end(), std::greater<>());
  for (auto [cost, node] : order) {
    // Drop the last recomputation of `node`; consumers read the copy before.
    int last = -1, count = 0;
    for (size_t j = 0; j < s.steps.size(); ++j)
      if (s.steps[j].node == node) {
        last = static_cast<int>(j);
        ++count;
      }
    if (count < 2)
      continue;
    Schedule t = s;
    t.steps.erase(t.steps.begin() + last);
    tightenEnds(g, t);
    Evaluation ev = evaluate(g, t);
    if (ev.valid && ev.peak <= budget)
      s = std::move(t);
  }
}

bool greedy(const Graph &g, int64_t budget, Schedule &out, double seconds,
            int repairRounds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const int n = static_cast<int>(g.size());
  bool any = false;
  double bestCost = 0;
  std::mt19937_64 rng(0);
  std::normal_distribution<double> normal;
  // Eviction is on demand and recomputation happens at the consumer: a value
  // evicted long before a wide consumer can need most of the graph rebuilt
  // there. `keep` learns from failures: the inputs a failed base
  // computation found missing become ten times less likely to be evicted,
  // and the variants run again (a few repair rounds, then restarts).
  std::vector<double> keep(n, 1.0);
  // Every schedule that fits is pruned (recomputations the others made
  // unnecessary are dropped) and the cheapest kept.
  auto offer = [&](Schedule cand) {
    Evaluation ev = evaluate(g, cand);
    if (!ev.valid || ev.peak > budget)
      return;
    if (ev.recomputes > 0) {
      pruneRecomputes(g, budget, cand);
      ev = evaluate(g, cand);
    }
    if (!any || ev.cost < bestCost) {
      any = true;
      bestCost = ev.cost;
      out = std::move(cand);
    }
  };
  auto runOnce = [&](int kind, bool lazy, const std::vector<double> &bias,
                     std::vector<int> &blame) {
    Executor ex(g);
    ex.budget = budget;
    ex.scoreKind = kind;
    ex.bias = bias;
    ex.maxSteps = 8 * g.size() + 64;
    bool ok = true;
    for (int v = 0; v < n && ok; ++v) {
      ex.cur = v;
      ok = ex.compute(v);
      ex.cur = v + 1;
      if (!lazy)
        ex.freeDead();
    }
    if (!ok) {
      blame = ex.blame;
      return;
    }
    ex.finish();
    offer(std::move(ex.schedule));
  };
  auto elapsed = [&] {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  auto learn = [&](const std::vector<int> &blame) {
    for (size_t i = 0; i < blame.size() && i < 4; ++i)
      keep[blame[i]] *= 0.1;
  };
  // Lifetime splitting with two and three computations per node.
  for (int copies : {2, 3}) {
    Schedule split;
    if (splitLifetimes(g, budget, copies, split))
      offer(std::move(split));
  }
  // Four eviction scores, each with dead values freed at once or kept until
  // memory is needed (then they go first): kept values spare the
  // recomputation cascades of later evictions.
  // Repair rounds run only while nothing fits (the split schedules included).
  for (int round = 0; round <= repairRounds && (round == 0 || !any); ++round) {
    if (round > 4 && elapsed() >= seconds)
      break;
    std::vector<int> blame, firstBlame;
    for (int variant = 0; variant < 8; ++variant) {
      blame.clear();
      runOnce(variant % 4, variant >= 4, round ? keep : std::vector<double>(),
              blame);
      if (firstBlame.empty())
        firstBlame = blame;
    }
    if (any || firstBlame.empty())
      break;
    learn(firstBlame);
  }
  // With time to spare, restarts perturb the score of each node by a random
  // factor (fixed per restart), on top of what the repair rounds learned.
  // Every other restart perturbs lifetime splitting instead.
  std::vector<double> bias(n);
  for (uint64_t restart = 0; elapsed() < seconds; ++restart) {
    const int kind = static_cast<int>(rng() % 4);
    const bool lazy = rng() & 1;
    const double sigma = std::array<double, 3>{0.2, 0.7, 2.0}[rng() % 3];
    for (int v = 0; v < n; ++v)
      bias[v] = std::exp(sigma * normal(rng));
    if (restart % 2) {
      Schedule split;
      if (splitLifetimes(g, budget, 2 + lazy, split, bias))
        offer(std::move(split));
      continue;
    }
    for (int v = 0; v < n; ++v)
      bias[v] *= keep[v];
    std::vector<int> blame;
    runOnce(kind, lazy, bias, blame);
    if (!any && !blame.empty() && repairRounds > 0)
      learn(blame);
  }
  return any;
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

const char *methodName(Method m) {
  switch (m) {
  case Method::NoRemat: return "no-remat";
  case Method::Chen: return "chen-sqrt-n";
  case Method::Greedy: return "greedy";
  case Method::GreedyRestarts: return "greedy-restarts";
  case Method::Moccasin: return "moccasin";
  case Method::Checkmate: return "checkmate-milp";
  }
  return "?";
}

bool parseMethod(const std::string &name, Method &m) {
  for (Method c : {Method::NoRemat, Method::Chen, Method::Greedy,
                   Method::GreedyRestarts, Method::Moccasin, Method::Checkmate})
    if (name == methodName(c)) {
      m = c;
      return true;
    }
  if (name == "chen") {
    m = Method::Chen;
    return true;
  }
  if (name == "checkmate") {
    m = Method::Checkmate;
    return true;
  }
  return false;
}

SolveResult solve(const Graph &g, Method m, const SolveOptions &opts) {
  auto start = std::chrono::steady_clock::now();
  SolveResult r;
  switch (m) {
  case Method::Moccasin:
    r = solveMoccasin(g, opts);
    break;
  case Method::Checkmate:
    r = solveCheckmate(g, opts);
    break;
  case Method::NoRemat:
    r.schedule = noRemat(g);
    break;
  case Method::Chen:
    r.schedule = chenSqrtN(g);
    break;
  case Method::Greedy:
    if (!greedy(g, opts.budget, r.schedule))
      r.note = "no schedule within the budget";
    break;
  case Method::GreedyRestarts:
    if (!greedy(g, opts.budget, r.schedule, opts.timeLimit))
      r.note = "no schedule within the budget";
    break;
  }
  r.method = m;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            start)
                  .count();
  if (!r.schedule.steps.empty()) {
    r.eval = evaluate(g, r.schedule);
    r.found = r.eval.valid && r.eval.peak <= opts.budget;
    if (!r.eval.valid)
      r.note = "invalid schedule: " + r.eval.error;
    else if (!r.found && r.note.empty())
      r.note = "peak above the budget";
  }
  return r;
}

} // namespace tessera::remat
