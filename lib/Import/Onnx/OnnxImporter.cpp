//===- OnnxImporter.cpp - ONNX model -> tessera dialect -------------------===//
#include "lib/Import/Onnx/ImporterImpl.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <limits>
#include <set>

namespace tessera::onnx_import {

namespace {
std::string shapeStr(ArrayRef<int64_t> s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "," : "") + (ShapedType::isDynamic(s[i]) ? std::string("?")
                                                       : std::to_string(s[i]));
  return r + "]";
}

int64_t elemBytes(Type t) {
  if (t.isInteger(1))
    return 1;
  return (t.getIntOrFloatBitWidth() + 7) / 8;
}

std::string jsonEscape(StringRef s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      r += '\\';
      r += c;
    } else if ((unsigned char)c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      r += buf;
    } else {
      r += c;
    }
  }
  return r;
}
} // namespace

std::string OpStats::toJson() const {
  std::string s = "{\n  \"opset\": " + std::to_string(opsetVersion) +
                  ",\n  \"ops\": {";
  bool first = true;
  for (auto &[name, e] : ops) {
    s += first ? "\n" : ",\n";
    first = false;
    s += "    \"" + jsonEscape(name) + "\": {\"count\": " +
         std::to_string(e.count) +
         ", \"supported\": " + (e.supported ? "true" : "false") + "}";
  }
  s += "\n  }\n}\n";
  return s;
}

std::vector<std::string> supportedOpTypes() {
  std::vector<std::string> r;
  for (auto &kv : converters())
    r.push_back(kv.first);
  std::sort(r.begin(), r.end());
  return r;
}

Type Importer::elementType(int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT16:
    return b.getI16Type();
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
    return b.getI8Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  default:
    return nullptr;
  }
}

FailureOr<std::shared_ptr<HostTensor>>
Importer::decodeTensor(const onnx::TensorProto &t, StringRef what) {
  Type et = elementType(t.data_type());
  if (!et)
    return error(Twine("tensor '") + what + "' has unsupported data type " +
                 onnx::TensorProto::DataType_Name(
                     (onnx::TensorProto::DataType)t.data_type()));
  SmallVector<int64_t> dims;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / 8 / d))
      return error(Twine("tensor '") + what + "' has an invalid dimension " +
                   Twine(d));
    dims.push_back(d);
    n *= d;
  }
  auto h = std::make_shared<HostTensor>();
  h->type = RankedTensorType::get(dims, et);
  int64_t eb = elemBytes(et);
  bool uint8 = t.data_type() == onnx::TensorProto::UINT8;

  // Locate raw bytes: inline raw_data or external data.
  std::string external;
  const std::string *raw = nullptr;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : t.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::atoll(kv.value().c_str());
      else if (kv.key() == "length")
        length = std::atoll(kv.value().c_str());
    }
    if (location.empty() || llvm::sys::path::is_absolute(location) ||
        StringRef(location).contains(".."))
      return error(Twine("tensor '") + what +
                   "' has an invalid external data location '" + location +
                   "' (must be a relative path inside the model directory)");
    if (baseDir.empty())
      return error(Twine("tensor '") + what +
                   "' uses external data but the model was given from memory");
    llvm::SmallString<256> p(baseDir);
    llvm::sys::path::append(p, location);
    auto buf = llvm::MemoryBuffer::getFile(p, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (!buf)
      return error(Twine("cannot read external data file '") + p +
                   "' for tensor '" + what + "': " + buf.getError().message());
    int64_t size = (*buf)->getBufferSize();
    if (length < 0)
      length = size - offset;
    if (offset < 0 || length < 0 || offset > size || length > size - offset)
      return error(Twine("external data for tensor '") + what + "' (offset " +
                   Twine(offset) + ", length " + Twine(length) +
                   ") lies outside file '" + p + "' of " + Twine(size) +
                   " bytes");
    external.assign((*buf)->getBufferStart() + offset, length);
    raw = &external;
  } else if (t.has_raw_data()) {
    raw = &t.raw_data();
  }

  if (raw) {
    if ((int64_t)raw->size() != n * eb)
      return error(Twine("tensor '") + what + "' of shape " + shapeStr(dims) +
                   " needs " + Twine(n * eb) + " bytes of data, has " +
                   Twine(raw->size()));
    if (n > 1024 && isa<FloatType>(et)) {
      h->raw = *raw;
      return h;
    }
    const char *p = raw->data();
    if (isa<FloatType>(et)) {
      h->floats.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        if (et.isF32()) {
          float f;
          std::memcpy(&f, p + 4 * i, 4);
          h->floats[i] = f;
        } else if (et.isF64()) {
          double dv;
          std::memcpy(&dv, p + 8 * i, 8);
          h->floats[i] = dv;
        } else {
          uint16_t bits;
          std::memcpy(&bits, p + 2 * i, 2);
          APFloat af(et.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
                     APInt(16, bits));
          h->floats[i] = af.convertToDouble();
        }
      }
    } else {
      h->ints.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        switch (eb) {
        case 8: {
          int64_t v;
          std::memcpy(&v, p + 8 * i, 8);
          h->ints[i] = v;
          break;
        }
        case 4: {
          int32_t v;
          std::memcpy(&v, p + 4 * i, 4);
          h->ints[i] = v;
          break;
        }
        case 2: {
          int16_t v;
          std::memcpy(&v, p + 2 * i, 2);
          h->ints[i] = v;
          break;
        }
        default:
          h->ints[i] = uint8 ? (int64_t)(uint8_t)p[i] : (int64_t)(int8_t)p[i];
          if (et.isInteger(1))
            h->ints[i] = h->ints[i] != 0;
        }
      }
    }
    return h;
  }

  // Typed fields.
  auto bad = [&](int64_t have) {
    return error(Twine("tensor '") + what + "' of shape " + shapeStr(dims) +
                 " has " + Twine(have) + " values, expected " + Twine(n));
  };
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    if (t.float_data_size() != n)
      return bad(t.float_data_size());
    h->floats.assign(t.float_data().begin(), t.float_data().end());
    break;
  case onnx::TensorProto::DOUBLE:
    if (t.double_data_size() != n)
      return bad(t.double_data_size());
    h->floats.assign(t.double_data().begin(), t.double_data().end());
    break;
  case onnx::TensorProto::INT64:
    if (t.int64_data_size() != n)
      return bad(t.int64_data_size());
    h->ints.assign(t.int64_data().begin(), t.int64_data().end());
    break;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    if (t.int32_data_size() != n)
      return bad(t.int32_data_size());
    for (int32_t bits : t.int32_data()) {
      APFloat af(et.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
                 APInt(16, (uint16_t)bits));
      h->floats.push_back(af.convertToDouble());
    }
    break;
  default:
    if (t.int32_data_size() != n)
      return bad(t.int32_data_size());
    h->ints.assign(t.int32_data().begin(), t.int32_data().end());
    if (et.isInteger(1))
      for (auto &v : h->ints)
        v = v != 0;
  }
  return h;
}

Value Importer::constantOp(const HostTensor &h, Location l) {
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(entryBlock);
  Type et = h.type.getElementType();
  int64_t n = h.numElements();
  int64_t bytes = n * elemBytes(et);
  ElementsAttr attr;
  bool useResource = !et.isInteger(1) && bytes >= opts.resourceThresholdBytes;
  if (h.hasValues() && n > 1) {
    bool splat = h.isFloat() ? llvm::all_equal(h.floats) : llvm::all_equal(h.ints);
    if (splat) {
      Attribute v = h.isFloat() ? (Attribute)b.getFloatAttr(et, h.floats[0])
                                : (Attribute)b.getIntegerAttr(et, h.ints[0]);
      return tessera::ConstantOp::create(b, l, h.type,
                                         DenseElementsAttr::get(h.type, v));
    }
  }
  std::string data;
  if (!h.raw.empty()) {
    data = h.raw;
  } else if (useResource) {
    data.resize(bytes);
    char *p = data.data();
    for (int64_t i = 0; i < n; ++i) {
      if (et.isF32()) {
        float f = (float)h.floats[i];
        std::memcpy(p + 4 * i, &f, 4);
      } else if (et.isF64()) {
        std::memcpy(p + 8 * i, &h.floats[i], 8);
      } else if (isa<FloatType>(et)) {
        APFloat af(h.floats[i]);
        bool lost;
        af.convert(cast<FloatType>(et).getFloatSemantics(),
                   APFloat::rmNearestTiesToEven, &lost);
        uint16_t bits = (uint16_t)af.bitcastToAPInt().getZExtValue();
        std::memcpy(p + 2 * i, &bits, 2);
      } else {
        int64_t v = h.ints[i];
        std::memcpy(p + elemBytes(et) * i, &v, elemBytes(et)); // little-endian
      }
    }
  }
  if (!data.empty() || useResource) {
    std::string name = "tessera_blob_" + std::to_string(resourceCounter++);
    if (auto nl = dyn_cast<NameLoc>(l))
      name = nl.getName().str();
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(data.data(), data.size()), 64);
    attr = DenseResourceElementsAttr::get(h.type, name, std::move(blob));
  } else if (isa<FloatType>(et)) {
    SmallVector<APFloat> vals;
    for (double d : h.floats) {
      APFloat af(d);
      bool lost;
      af.convert(cast<FloatType>(et).getFloatSemantics(),
                 APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(af);
    }
    attr = DenseElementsAttr::get(h.type, vals);
  } else {
    SmallVector<APInt> vals;
    unsigned w = et.getIntOrFloatBitWidth();
    for (int64_t v : h.ints)
      vals.push_back(APInt(w, (uint64_t)v, /*isSigned=*/true, /*implicitTrunc=*/true));
    attr = DenseElementsAttr::get(h.type, vals);
  }
  return tessera::ConstantOp::create(b, l, h.type, attr);
}

Value Importer::scalarLike(Type et, double v) {
  HostTensor h;
  h.type = RankedTensorType::get({}, et);
  if (isa<FloatType>(et))
    h.floats = {v};
  else
    h.ints = {(int64_t)v};
  return constantOp(h, loc);
}

Value Importer::materialize(Entry &e, StringRef name) {
  if (!e.value && e.host)
    e.value = constantOp(*e.host, NameLoc::get(b.getStringAttr(name)));
  return e.value;
}

size_t Importer::numInputs(const onnx::NodeProto &n) const {
  size_t c = 0;
  for (const auto &i : n.input())
    c += !i.empty();
  return c;
}

FailureOr<Entry *> Importer::input(const onnx::NodeProto &n, int i) {
  if (!hasInput(n, i))
    return error(Twine(n.op_type()) + " is missing required input #" +
                 Twine(i));
  auto it = values.find(n.input(i));
  if (it == values.end())
    return error(Twine("input '") + n.input(i) +
                 "' is not produced by any earlier node, initializer or graph "
                 "input");
  return &it->second;
}

FailureOr<Value> Importer::value(const onnx::NodeProto &n, int i) {
  auto e = input(n, i);
  if (failed(e))
    return failure();
  return materialize(**e, n.input(i));
}

FailureOr<HostTensor *> Importer::constant(const onnx::NodeProto &n, int i,
                                           StringRef what) {
  auto e = input(n, i);
  if (failed(e))
    return failure();
  if (!(*e)->host || !(*e)->host->hasValues())
    return error(Twine(n.op_type()) + ": " + what + " (input #" + Twine(i) +
                 " '" + n.input(i) +
                 "') must be known at compile time; Tessera compiles static "
                 "shapes");
  return (*e)->host.get();
}

void Importer::setOutput(const onnx::NodeProto &n, int i, Value v) {
  if (i >= n.output_size() || n.output(i).empty())
    return;
  Entry e;
  e.type = cast<RankedTensorType>(v.getType());
  e.value = v;
  values[n.output(i)] = e;
}

void Importer::setOutputHost(const onnx::NodeProto &n, int i,
                             std::shared_ptr<HostTensor> h) {
  if (i >= n.output_size() || n.output(i).empty())
    return;
  Entry e;
  e.type = h->type;
  e.host = std::move(h);
  values[n.output(i)] = e;
}

const onnx::AttributeProto *Importer::attr(const onnx::NodeProto &n,
                                           StringRef name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}
int64_t Importer::attrInt(const onnx::NodeProto &n, StringRef name,
                          int64_t dflt) {
  auto *a = attr(n, name);
  return a ? a->i() : dflt;
}
double Importer::attrFloat(const onnx::NodeProto &n, StringRef name,
                           double dflt) {
  auto *a = attr(n, name);
  return a ? a->f() : dflt;
}
std::string Importer::attrString(const onnx::NodeProto &n, StringRef name,
                                 StringRef dflt) {
  auto *a = attr(n, name);
  return a ? a->s() : dflt.str();
}
std::optional<std::vector<int64_t>>
Importer::attrInts(const onnx::NodeProto &n, StringRef name) {
  auto *a = attr(n, name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model,
                                    OpStats *stats) {
  Location modelLoc = FileLineColLoc::get(ctx, modelName, 0, 0);
  if (!model.has_graph()) {
    emitError(modelLoc) << "ONNX model has no graph";
    return nullptr;
  }
  for (const auto &os : model.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx")
      opset = os.version();
  if (stats)
    stats->opsetVersion = opset;
  const onnx::GraphProto &g = model.graph();

  // Op histogram and the unsupported-op check, all at once.
  const auto &table = converters();
  std::map<std::string, std::vector<std::string>> unsupported;
  std::map<std::string, int64_t> unsupportedCount;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto &n = g.node(i);
    std::string key = n.op_type();
    bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
    if (!defaultDomain)
      key = n.domain() + "::" + key;
    bool ok = defaultDomain && table.count(n.op_type());
    std::string nodeName = n.name().empty() ? "#" + std::to_string(i) : n.name();
    if (stats) {
      auto &e = stats->ops[key];
      e.count++;
      e.supported = ok;
      if (e.nodes.size() < 8)
        e.nodes.push_back(nodeName);
    }
    if (!ok) {
      unsupportedCount[key]++;
      if (unsupported[key].size() < 5)
        unsupported[key].push_back(nodeName);
    }
  }
  if (!unsupported.empty()) {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    os << "model uses " << unsupported.size()
       << " unsupported operator type(s):";
    for (auto &[op, nodes] : unsupported) {
      os << "\n  " << op << " x" << unsupportedCount[op] << " (nodes: ";
      for (size_t i = 0; i < nodes.size(); ++i)
        os << (i ? ", " : "") << nodes[i];
      if ((int64_t)nodes.size() < unsupportedCount[op])
        os << ", ...";
      os << ")";
    }
    os << "\nsee docs/supported-ops.md for the supported operators";
    emitError(modelLoc) << msg;
    return nullptr;
  }
  if (opset && (opset < 11 || opset > 18))
    emitWarning(modelLoc) << "model opset " << opset
                          << " is outside the tested range 11-18";

  OwningOpRef<ModuleOp> module = ModuleOp::create(modelLoc);
  b.setInsertionPointToEnd(module->getBody());

  // Initializers.
  bool failedAny = false;
  std::set<std::string> initNames;
  for (const auto &t : g.initializer()) {
    loc = NameLoc::get(b.getStringAttr(t.name()), modelLoc);
    auto h = decodeTensor(t, t.name());
    if (failed(h)) {
      failedAny = true;
      continue;
    }
    Entry e;
    e.type = (*h)->type;
    e.host = *h;
    values[t.name()] = e;
    initNames.insert(t.name());
  }

  // Graph inputs -> function arguments.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &in : g.input()) {
    if (initNames.count(in.name()))
      continue;
    loc = NameLoc::get(b.getStringAttr(in.name()), modelLoc);
    if (!in.type().has_tensor_type()) {
      emitError(loc) << "graph input '" << in.name()
                     << "' is not a tensor; only tensor inputs are supported";
      failedAny = true;
      continue;
    }
    const auto &tt = in.type().tensor_type();
    Type et = elementType(tt.elem_type());
    if (!et) {
      emitError(loc) << "graph input '" << in.name()
                     << "' has unsupported element type "
                     << onnx::TensorProto::DataType_Name(
                            (onnx::TensorProto::DataType)tt.elem_type());
      failedAny = true;
      continue;
    }
    SmallVector<int64_t> dims;
    auto ov = opts.inputShapes.find(in.name());
    if (ov != opts.inputShapes.end()) {
      if (tt.has_shape() && tt.shape().dim_size() != (int)ov->second.size()) {
        emitError(loc) << "--input-shape for '" << in.name() << "' has rank "
                       << ov->second.size() << " but the model declares rank "
                       << tt.shape().dim_size();
        failedAny = true;
        continue;
      }
      dims.assign(ov->second.begin(), ov->second.end());
      for (int i = 0; tt.has_shape() && i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        if (d.has_dim_value() && d.dim_value() != dims[i]) {
          emitError(loc) << "--input-shape for '" << in.name() << "' sets dim "
                         << i << " to " << dims[i]
                         << " but the model fixes it to " << d.dim_value();
          failedAny = true;
        }
      }
    } else {
      if (!tt.has_shape()) {
        emitError(loc) << "graph input '" << in.name()
                       << "' has no shape; give one with --input-shape "
                       << in.name() << "=D0xD1x...";
        failedAny = true;
        continue;
      }
      for (int i = 0; i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        if (d.has_dim_value() && d.dim_value() > 0) {
          dims.push_back(d.dim_value());
        } else {
          dims.push_back(opts.defaultDynamicDim);
          emitWarning(loc) << "dynamic dim " << i
                           << (d.has_dim_param() ? " ('" + d.dim_param() + "')"
                                                 : std::string())
                           << " of input '" << in.name() << "' set to "
                           << opts.defaultDynamicDim
                           << " (override with --input-shape)";
        }
      }
    }
    argTypes.push_back(RankedTensorType::get(dims, et));
    argNames.push_back(in.name());
  }
  for (auto &[name, _] : opts.inputShapes)
    if (!llvm::is_contained(argNames, name)) {
      emitError(modelLoc) << "--input-shape names '" << name
                          << "', which is not a graph input";
      failedAny = true;
    }
  if (failedAny)
    return nullptr;

  auto fnType = b.getFunctionType(argTypes, {});
  func = func::FuncOp::create(b, modelLoc, "main", fnType);
  entryBlock = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "tessera.name", b.getStringAttr(name));
    Entry e;
    e.type = cast<RankedTensorType>(argTypes[i]);
    e.value = entryBlock->getArgument(i);
    values[name] = e;
  }
  b.setInsertionPointToEnd(entryBlock);

  // Nodes.
  std::set<std::string> poisoned;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto &n = g.node(i);
    std::string nodeName =
        n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
    loc = NameLoc::get(b.getStringAttr(nodeName),
                       FileLineColLoc::get(ctx, modelName, i + 1, 0));
    bool skip = false;
    for (const auto &in : n.input())
      if (poisoned.count(in))
        skip = true;
    if (skip) {
      for (const auto &o : n.output())
        poisoned.insert(o);
      continue;
    }
    if (failed(table.at(n.op_type())(*this, n))) {
      failedAny = true;
      for (const auto &o : n.output())
        poisoned.insert(o);
      continue;
    }
    for (int o = 0; o < n.output_size(); ++o)
      if (!n.output(o).empty() && !values.count(n.output(o)) &&
          o == 0) {
        emitError(loc) << n.op_type() << " produced no value for output '"
                       << n.output(o) << "'";
        failedAny = true;
      }
  }

  // Graph outputs.
  SmallVector<Value> results;
  SmallVector<std::string> resultNames;
  for (const auto &out : g.output()) {
    loc = NameLoc::get(b.getStringAttr(out.name()), modelLoc);
    if (poisoned.count(out.name()))
      continue;
    auto it = values.find(out.name());
    if (it == values.end()) {
      emitError(loc) << "graph output '" << out.name()
                     << "' is not produced by any node";
      failedAny = true;
      continue;
    }
    results.push_back(materialize(it->second, out.name()));
    resultNames.push_back(out.name());
  }
  if (failedAny)
    return nullptr;
  func::ReturnOp::create(b, modelLoc, results);
  func.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, name] : llvm::enumerate(resultNames))
    func.setResultAttr(i, "tessera.name", b.getStringAttr(name));
  module->getOperation()->setAttr("tessera.model", b.getStringAttr(modelName));
  if (failed(mlir::verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> importOnnxBytes(MLIRContext *ctx, const void *data,
                                      size_t size, const std::string &name,
                                      const std::string &baseDir,
                                      const ImportOptions &options,
                                      OpStats *stats) {
  ctx->loadDialect<TesseraDialect, func::FuncDialect>();
  Location l = FileLineColLoc::get(ctx, name, 0, 0);
  if (size > (size_t)std::numeric_limits<int>::max()) {
    emitError(l) << "model is larger than 2 GiB; store weights as ONNX "
                    "external data";
    return nullptr;
  }
  onnx::ModelProto model;
  if (size == 0 || !model.ParseFromArray(data, (int)size)) {
    emitError(l) << "not a valid ONNX model: the file is empty, truncated or "
                    "not an ONNX protobuf";
    return nullptr;
  }
  if (!model.has_graph() || model.graph().node_size() == 0) {
    emitError(l) << "not a valid ONNX model: no graph or no nodes";
    return nullptr;
  }
  Importer imp(ctx, options, name, baseDir);
  return imp.run(model, stats);
}

OwningOpRef<ModuleOp> importOnnxFile(MLIRContext *ctx, const std::string &path,
                                     const ImportOptions &options,
                                     OpStats *stats) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf) {
    emitError(UnknownLoc::get(ctx))
        << "cannot open model '" << path << "': " << buf.getError().message();
    return nullptr;
  }
  if (llvm::sys::fs::is_directory(path)) {
    emitError(UnknownLoc::get(ctx)) << "'" << path << "' is a directory";
    return nullptr;
  }
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  return importOnnxBytes(ctx, (*buf)->getBufferStart(), (*buf)->getBufferSize(),
                         path, dir.str().str(), options, stats);
}

} // namespace tessera::onnx_import
