//===- ShapeInference.cpp - shape rules of tessera ops --------------------===//
#include "dialects/Graph/ShapeInference.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include <string>

using namespace mlir;

namespace tessera::shape {
namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

bool isDyn(int64_t d) { return d == kDyn; }

std::string str(ArrayRef<int64_t> s) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(s)) {
    if (i)
      out += ",";
    out += isDyn(d) ? std::string("?") : std::to_string(d);
  }
  return out + "]";
}

/// Emits `[rule] message` at loc if present; always returns failure.
struct Err {
  std::optional<Location> loc;
  std::string rule;
  std::string msg;
  Err(std::optional<Location> loc, StringRef rule) : loc(loc), rule(rule) {}
  template <typename T> Err &operator<<(const T &v) {
    llvm::raw_string_ostream os(msg);
    os << v;
    return *this;
  }
  operator LogicalResult() const {
    if (loc)
      emitError(*loc) << "[" << rule << "] " << msg;
    return failure();
  }
  operator FailureOr<Shape>() const {
    (void)static_cast<LogicalResult>(*this);
    return failure();
  }
  operator FailureOr<int64_t>() const {
    (void)static_cast<LogicalResult>(*this);
    return failure();
  }
};

/// Output extent of a sliding window.
FailureOr<int64_t> windowOut(int64_t in, int64_t k, int64_t stride,
                             int64_t dil, int64_t padLo, int64_t padHi,
                             std::optional<Location> loc, StringRef rule,
                             int dim) {
  if (isDyn(in))
    return kDyn;
  int64_t eff = (k - 1) * dil + 1;
  int64_t span = in + padLo + padHi - eff;
  if (span < 0)
    return Err(loc, rule) << "window of effective size " << eff
                          << " does not fit spatial dim " << dim << " of size "
                          << in << " with padding " << padLo << "+" << padHi;
  return span / stride + 1;
}

LogicalResult checkWindowAttrs(ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> dilations,
                               ArrayRef<int64_t> pads,
                               std::optional<Location> loc, StringRef rule) {
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    return Err(loc, rule) << "expects 2 strides, 2 dilations and 4 pads, got "
                          << strides.size() << ", " << dilations.size()
                          << " and " << pads.size();
  for (int64_t s : strides)
    if (s <= 0)
      return Err(loc, rule) << "strides must be positive, got " << str(strides);
  for (int64_t d : dilations)
    if (d <= 0)
      return Err(loc, rule) << "dilations must be positive, got "
                            << str(dilations);
  for (int64_t p : pads)
    if (p < 0)
      return Err(loc, rule) << "pads must be non-negative, got " << str(pads);
  return success();
}
} // namespace

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (isDyn(d))
      return kDyn;
    n *= d;
  }
  return n;
}

FailureOr<Shape> broadcast(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                           std::optional<Location> loc) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (isDyn(da) || isDyn(db))
      out[i] = isDyn(da) ? db : da;
    else if (da == db)
      out[i] = da;
    else
      return Err(loc, "broadcast")
             << "shapes " << str(a) << " and " << str(b)
             << " are not broadcast-compatible at result dim " << i << " ("
             << da << " vs " << db << ")";
  }
  return out;
}

LogicalResult broadcastableTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to,
                              std::optional<Location> loc) {
  if (from.size() > to.size())
    return Err(loc, "broadcast")
           << "cannot broadcast rank-" << from.size() << " shape " << str(from)
           << " to rank-" << to.size() << " shape " << str(to);
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i) {
    int64_t f = from[i], t = to[i + off];
    if (f != 1 && f != t && !isDyn(f) && !isDyn(t))
      return Err(loc, "broadcast") << "cannot broadcast " << str(from) << " to "
                                   << str(to) << " at dim " << i + off;
  }
  return success();
}

FailureOr<Shape> matmul(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs,
                        std::optional<Location> loc) {
  if (lhs.size() < 2 || rhs.size() < 2)
    return Err(loc, "matmul") << "operands must have rank >= 2, got "
                              << str(lhs) << " and " << str(rhs);
  int64_t k1 = lhs.back(), k2 = rhs[rhs.size() - 2];
  if (!isDyn(k1) && !isDyn(k2) && k1 != k2)
    return Err(loc, "matmul") << "contraction dims differ: lhs " << str(lhs)
                              << " has K=" << k1 << ", rhs " << str(rhs)
                              << " has K=" << k2;
  auto batch = broadcast(lhs.drop_back(2), rhs.drop_back(2), loc);
  if (failed(batch))
    return failure();
  Shape out = *batch;
  out.push_back(lhs[lhs.size() - 2]);
  out.push_back(rhs.back());
  return out;
}

FailureOr<Shape> bandedMatmul(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs,
                              int64_t width, int64_t dilation, bool general,
                              std::optional<Location> loc) {
  const char *op = general ? "gbmm" : "g2bmm";
  if (lhs.size() != 3 || rhs.size() != 3)
    return Err(loc, op) << "operands must have rank 3, got " << str(lhs)
                        << " and " << str(rhs);
  if (width < 0 || dilation <= 0)
    return Err(loc, op) << "width must be >= 0 and dilation > 0, got width "
                        << width << ", dilation " << dilation;
  if (!isDyn(lhs[0]) && !isDyn(rhs[0]) && lhs[0] != rhs[0])
    return Err(loc, op) << "batch dims differ: " << str(lhs) << " and "
                        << str(rhs);
  if (!general) {
    if (!isDyn(lhs[2]) && !isDyn(rhs[2]) && lhs[2] != rhs[2])
      return Err(loc, op) << "feature dims differ: " << str(lhs) << " and "
                          << str(rhs);
    return Shape{lhs[0], lhs[1], 2 * width + 1};
  }
  if (!isDyn(lhs[2]) && lhs[2] != 2 * width + 1)
    return Err(loc, op) << "lhs band dim must be 2*width+1 = " << 2 * width + 1
                        << ", got " << str(lhs);
  return Shape{lhs[0], lhs[1], rhs[2]};
}

FailureOr<Shape> conv2d(ArrayRef<int64_t> in, ArrayRef<int64_t> w,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                        ArrayRef<int64_t> pads, int64_t groups,
                        std::optional<Location> loc) {
  if (in.size() != 4 || w.size() != 4)
    return Err(loc, "conv") << "expects rank-4 NCHW input and rank-4 weight, "
                               "got "
                            << str(in) << " and " << str(w);
  if (failed(checkWindowAttrs(strides, dilations, pads, loc, "conv")))
    return failure();
  if (groups <= 0)
    return Err(loc, "conv") << "groups must be positive, got " << groups;
  if (!isDyn(in[1]) && !isDyn(w[1]) && in[1] != w[1] * groups)
    return Err(loc, "conv") << "input channels " << in[1]
                            << " != weight channels-per-group " << w[1]
                            << " * groups " << groups;
  if (!isDyn(w[0]) && w[0] % groups != 0)
    return Err(loc, "conv") << "output channels " << w[0]
                            << " not divisible by groups " << groups;
  Shape out{in[0], w[0], 0, 0};
  for (int d = 0; d < 2; ++d) {
    auto o = windowOut(in[2 + d], w[2 + d], strides[d], dilations[d], pads[d],
                       pads[2 + d], loc, "conv", d);
    if (failed(o))
      return failure();
    out[2 + d] = *o;
  }
  return out;
}

FailureOr<Shape> convTranspose2d(ArrayRef<int64_t> in, ArrayRef<int64_t> w,
                                 ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> dilations,
                                 ArrayRef<int64_t> pads,
                                 ArrayRef<int64_t> outPad, int64_t groups,
                                 std::optional<Location> loc) {
  if (in.size() != 4 || w.size() != 4)
    return Err(loc, "conv_transpose")
           << "expects rank-4 NCHW input and rank-4 weight, got " << str(in)
           << " and " << str(w);
  if (failed(checkWindowAttrs(strides, dilations, pads, loc, "conv_transpose")))
    return failure();
  if (outPad.size() != 2)
    return Err(loc, "conv_transpose") << "expects 2 output_padding values";
  if (groups <= 0)
    return Err(loc, "conv_transpose") << "groups must be positive";
  if (!isDyn(in[1]) && !isDyn(w[0]) && in[1] != w[0])
    return Err(loc, "conv_transpose")
           << "input channels " << in[1] << " != weight dim 0 " << w[0];
  if (!isDyn(in[1]) && in[1] % groups != 0)
    return Err(loc, "conv_transpose") << "input channels " << in[1]
                                      << " not divisible by groups " << groups;
  Shape out{in[0], isDyn(w[1]) ? kDyn : w[1] * groups, 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (outPad[d] < 0 || (outPad[d] >= strides[d] && outPad[d] >= dilations[d]))
      return Err(loc, "conv_transpose")
             << "output_padding " << outPad[d]
             << " must be smaller than stride or dilation";
    if (isDyn(in[2 + d])) {
      out[2 + d] = kDyn;
      continue;
    }
    int64_t o = strides[d] * (in[2 + d] - 1) + outPad[d] +
                (w[2 + d] - 1) * dilations[d] + 1 - pads[d] - pads[2 + d];
    if (o <= 0)
      return Err(loc, "conv_transpose")
             << "non-positive output size " << o << " at spatial dim " << d;
    out[2 + d] = o;
  }
  return out;
}

FailureOr<Shape> pool2d(ArrayRef<int64_t> in, ArrayRef<int64_t> kernel,
                        ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                        ArrayRef<int64_t> pads, std::optional<Location> loc) {
  if (in.size() != 4)
    return Err(loc, "pool") << "expects rank-4 NCHW input, got " << str(in);
  if (kernel.size() != 2)
    return Err(loc, "pool") << "expects a 2-element kernel, got " << str(kernel);
  for (int64_t k : kernel)
    if (k <= 0)
      return Err(loc, "pool") << "kernel must be positive, got " << str(kernel);
  if (failed(checkWindowAttrs(strides, dilations, pads, loc, "pool")))
    return failure();
  Shape out{in[0], in[1], 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (pads[d] >= (kernel[d] - 1) * dilations[d] + 1 ||
        pads[2 + d] >= (kernel[d] - 1) * dilations[d] + 1)
      return Err(loc, "pool") << "padding " << str(pads)
                              << " must be smaller than the window";
    auto o = windowOut(in[2 + d], kernel[d], strides[d], dilations[d], pads[d],
                       pads[2 + d], loc, "pool", d);
    if (failed(o))
      return failure();
    out[2 + d] = *o;
  }
  return out;
}

FailureOr<Shape> reduce(ArrayRef<int64_t> in, ArrayRef<int64_t> axes,
                        bool keepdims, std::optional<Location> loc) {
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= (int64_t)in.size())
      return Err(loc, "reduce") << "axis " << a << " out of range for rank "
                                << in.size();
    if (i && axes[i - 1] >= a)
      return Err(loc, "reduce") << "axes must be sorted and unique, got "
                                << str(axes);
  }
  Shape out;
  for (auto [i, d] : llvm::enumerate(in)) {
    bool reduced = llvm::is_contained(axes, (int64_t)i);
    if (!reduced)
      out.push_back(d);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

FailureOr<Shape> transpose(ArrayRef<int64_t> in, ArrayRef<int64_t> perm,
                           std::optional<Location> loc) {
  if (perm.size() != in.size())
    return Err(loc, "transpose") << "permutation " << str(perm)
                                 << " has wrong length for rank " << in.size();
  llvm::SmallVector<bool> seen(in.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)in.size() || seen[p])
      return Err(loc, "transpose") << "invalid permutation " << str(perm);
    seen[p] = true;
    out.push_back(in[p]);
  }
  return out;
}

FailureOr<Shape> concat(ArrayRef<Shape> ins, int64_t axis,
                        std::optional<Location> loc) {
  if (ins.empty())
    return Err(loc, "concat") << "needs at least one input";
  size_t rank = ins[0].size();
  if (axis < 0 || axis >= (int64_t)rank)
    return Err(loc, "concat") << "axis " << axis << " out of range for rank "
                              << rank;
  Shape out(ins[0].begin(), ins[0].end());
  for (size_t i = 1; i < ins.size(); ++i) {
    if (ins[i].size() != rank)
      return Err(loc, "concat") << "input " << i << " has rank "
                                << ins[i].size() << ", expected " << rank;
    for (size_t d = 0; d < rank; ++d) {
      if ((int64_t)d == axis) {
        out[d] = (isDyn(out[d]) || isDyn(ins[i][d])) ? kDyn
                                                     : out[d] + ins[i][d];
      } else if (!isDyn(out[d]) && !isDyn(ins[i][d]) && out[d] != ins[i][d]) {
        return Err(loc, "concat")
               << "input " << i << " shape " << str(ins[i])
               << " differs from input 0 shape " << str(ins[0]) << " at dim "
               << d;
      }
    }
  }
  return out;
}

LogicalResult slice(ArrayRef<int64_t> in, ArrayRef<int64_t> starts,
                    ArrayRef<int64_t> steps, ArrayRef<int64_t> result,
                    std::optional<Location> loc) {
  if (starts.size() != in.size() || steps.size() != in.size() ||
      result.size() != in.size())
    return Err(loc, "slice") << "starts/steps/result must have the input rank "
                             << in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    if (steps[d] == 0)
      return Err(loc, "slice") << "step at dim " << d << " is zero";
    if (starts[d] < 0)
      return Err(loc, "slice") << "start at dim " << d << " is negative";
    if (isDyn(in[d]) || isDyn(result[d]) || result[d] == 0)
      continue;
    int64_t last = starts[d] + (result[d] - 1) * steps[d];
    if (starts[d] >= in[d] || last < 0 || last >= in[d])
      return Err(loc, "slice") << "dim " << d << ": start " << starts[d]
                               << ", step " << steps[d] << ", size "
                               << result[d] << " leaves extent " << in[d];
  }
  return success();
}

FailureOr<Shape> gather(ArrayRef<int64_t> in, ArrayRef<int64_t> idx,
                        int64_t axis, std::optional<Location> loc) {
  if (axis < 0 || axis >= (int64_t)in.size())
    return Err(loc, "gather") << "axis " << axis << " out of range for rank "
                              << in.size();
  Shape out(in.begin(), in.begin() + axis);
  out.append(idx.begin(), idx.end());
  out.append(in.begin() + axis + 1, in.end());
  return out;
}

FailureOr<Shape> pad(ArrayRef<int64_t> in, ArrayRef<int64_t> low,
                     ArrayRef<int64_t> high, std::optional<Location> loc) {
  if (low.size() != in.size() || high.size() != in.size())
    return Err(loc, "pad") << "low/high must have the input rank " << in.size();
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (low[d] < 0 || high[d] < 0)
      return Err(loc, "pad") << "negative padding at dim " << d;
    out.push_back(isDyn(in[d]) ? kDyn : in[d] + low[d] + high[d]);
  }
  return out;
}

LogicalResult reshape(ArrayRef<int64_t> in, ArrayRef<int64_t> result,
                      std::optional<Location> loc) {
  int64_t a = numElements(in), b = numElements(result);
  if (!isDyn(a) && !isDyn(b) && a != b)
    return Err(loc, "reshape") << "cannot reshape " << str(in) << " (" << a
                               << " elements) to " << str(result) << " (" << b
                               << " elements)";
  return success();
}

} // namespace tessera::shape
