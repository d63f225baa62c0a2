//===- test/unit/runtime/NpyTest.cpp - .npy reader and writer -------------===//

#include "Npy.h"
#include "RuntimeTestUtil.h"

#include <dirent.h>

using namespace tessera::test;
namespace npy = tessera::runtime::npy;

namespace {

/// A .npy file as numpy writes it: magic, version, header length, header.
Bytes npyBytes(const std::string &header, const Bytes &data, int major = 1) {
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  const size_t len = header.size();
  out.push_back(uint8_t(len));
  out.push_back(uint8_t(len >> 8));
  if (major >= 2) {
    out.push_back(uint8_t(len >> 16));
    out.push_back(uint8_t(len >> 24));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string parseError(const Bytes &bytes) {
  npy::Array a;
  std::string error;
  EXPECT_FALSE(npy::parse(bytes.data(), bytes.size(), a, error));
  return error;
}

#define EXPECT_NPY_ERROR(bytes, substring)                                     \
  do {                                                                         \
    const std::string err_ = parseError(bytes);                                \
    EXPECT_NE(err_.find(substring), std::string::npos)                         \
        << "message lacks \"" << (substring) << "\": " << err_;                \
  } while (0)

size_t filesIn(const std::string &dir) {
  size_t n = 0;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d))
      n += e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.');
    closedir(d);
  }
  return n;
}

} // namespace

TEST(Npy, ReadsWhatNumpyWrites) {
  // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3))
  std::string header = "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 3), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  Bytes data(24);
  const float values[6] = {0, 1, 2, 3, 4, 5};
  std::memcpy(data.data(), values, 24);
  npy::Array a;
  std::string error;
  const Bytes file = npyBytes(header, data);
  ASSERT_TRUE(npy::parse(file.data(), file.size(), a, error)) << error;
  EXPECT_EQ(a.dtype, TSR_DTYPE_F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, data);

  // Our writer produces the same bytes.
  Bytes ours;
  const int64_t shape[2] = {2, 3};
  ASSERT_TRUE(npy::serialize(TSR_DTYPE_F32, shape, 2, values, 24, ours, error));
  EXPECT_EQ(ours, file);
}

TEST(Npy, AcceptsVersion2AndOtherSpellings) {
  const Bytes v2 = npyBytes(
      "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"|b1\"}\n",
      {1, 0, 1}, 2);
  npy::Array a;
  std::string error;
  ASSERT_TRUE(npy::parse(v2.data(), v2.size(), a, error)) << error;
  EXPECT_EQ(a.dtype, TSR_DTYPE_BOOL);
  EXPECT_EQ(a.shape, std::vector<int64_t>{3});

  const Bytes scalar = npyBytes(
      "{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n",
      Bytes(8, 0));
  ASSERT_TRUE(npy::parse(scalar.data(), scalar.size(), a, error)) << error;
  EXPECT_EQ(a.dtype, TSR_DTYPE_I64);
  EXPECT_TRUE(a.shape.empty());

  const Bytes longs = npyBytes(
      "{'descr': '<i2', 'fortran_order': False, 'shape': (1L, 2L), }\n",
      Bytes(4, 0));
  ASSERT_TRUE(npy::parse(longs.data(), longs.size(), a, error)) << error;
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2}));
}

TEST(Npy, RoundTripsEveryDtype) {
  const std::string dir = tempDir();
  for (tsr_dtype dtype :
       {TSR_DTYPE_F32, TSR_DTYPE_F64, TSR_DTYPE_F16, TSR_DTYPE_I8, TSR_DTYPE_U8,
        TSR_DTYPE_I16, TSR_DTYPE_I32, TSR_DTYPE_I64, TSR_DTYPE_BOOL}) {
    for (const std::vector<int64_t> &shape :
         std::vector<std::vector<int64_t>>{{}, {5}, {2, 3, 4}, {0, 7}}) {
      SCOPED_TRACE(std::string(tsr_dtype_name(dtype)) + " " +
                   std::to_string(shape.size()));
      int64_t count = 1;
      for (int64_t d : shape)
        count *= d;
      Bytes data(size_t(count) * tsr_dtype_size(dtype));
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = dtype == TSR_DTYPE_BOOL ? uint8_t(i % 2) : uint8_t(i * 7 + 1);
      const std::string path =
          dir + "/tessera-npy-test-" + std::to_string(getpid()) + ".npy";
      std::string error;
      ASSERT_TRUE(npy::writeFileAtomic(path, dtype, shape.data(), shape.size(),
                                       data.data(), data.size(), error))
          << error;
      npy::Array a;
      ASSERT_TRUE(npy::readFile(path, a, error)) << error;
      EXPECT_EQ(a.dtype, dtype);
      EXPECT_EQ(a.shape, shape);
      EXPECT_EQ(a.data, data);
      Bytes raw;
      ASSERT_TRUE(readFile(path, raw));
      EXPECT_EQ((raw.size() - data.size()) % 64, 0u) << "data is 64-aligned";
      std::remove(path.c_str());
    }
  }
}

TEST(Npy, Bf16HasNoNpyForm) {
  Bytes out;
  std::string error;
  const int64_t shape[1] = {1};
  const uint16_t v = 0;
  EXPECT_FALSE(npy::serialize(TSR_DTYPE_BF16, shape, 1, &v, 2, out, error));
  EXPECT_NE(error.find("dtype bf16 cannot be stored in a .npy file"),
            std::string::npos)
      << error;
}

TEST(Npy, MalformedFiles) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2,), }\n";
  EXPECT_NPY_ERROR(toBytes("not numpy"), "not a .npy file (bad magic)");
  EXPECT_NPY_ERROR(Bytes(), "not a .npy file");
  EXPECT_NPY_ERROR(npyBytes(ok, Bytes(8), 4), ".npy format version 4.0 is not "
                                              "supported");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': True, "
                            "'shape': (2,), }\n",
                            Bytes(8)),
                   "Fortran-order arrays are not supported");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<c8', 'fortran_order': False, "
                            "'shape': (2,), }\n",
                            Bytes(16)),
                   "unsupported dtype '<c8' (supported: <f4");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '>f4', 'fortran_order': False, "
                            "'shape': (2,), }\n",
                            Bytes(8)),
                   "big-endian data ('>f4') is not supported");
  EXPECT_NPY_ERROR(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': "
                            "False, 'shape': (2,), }\n",
                            Bytes(8)),
                   "structured dtypes are not supported");
  EXPECT_NPY_ERROR(npyBytes(ok, Bytes(7)),
                   "truncated .npy file: shape [2] (<f4) needs 8 data bytes, "
                   "file has 7");
  EXPECT_NPY_ERROR(npyBytes(ok, Bytes(9)), "1 unexpected bytes after the array");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'shape': (2,), }\n", Bytes(8)),
                   "missing key 'fortran_order'");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (2, -1), }\n",
                            Bytes(8)),
                   "'shape' entries must be non-negative integers");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (99999999999999999999,), }\n",
                            Bytes(8)),
                   "'shape' entry is too large");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (4294967296, 4294967296, 4294967296), }\n",
                            Bytes(8)),
                   "is too large");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': Maybe, "
                            "'shape': (2,), }\n",
                            Bytes(8)),
                   "'fortran_order' must be True or False");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (2,), 'extra': 1}\n",
                            Bytes(8)),
                   "unexpected key 'extra'");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4' 'shape': (2,)}\n", Bytes(8)),
                   "expected ',' or '}' after 'descr'");
  EXPECT_NPY_ERROR(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (2,)} trailing\n",
                            Bytes(8)),
                   "unexpected text after the dict");
  EXPECT_NPY_ERROR(npyBytes("['descr']\n", Bytes(8)),
                   "malformed .npy header: header is not a dict literal");
  Bytes shortHeader = npyBytes(ok, {});
  shortHeader[8] = 0xff; // header length beyond the file
  EXPECT_NPY_ERROR(shortHeader, "header length 255 exceeds the file size");
}

TEST(Npy, ReadFileErrorsNameTheFile) {
  npy::Array a;
  std::string error;
  EXPECT_FALSE(npy::readFile("/nonexistent/in.npy", a, error));
  EXPECT_NE(error.find("'/nonexistent/in.npy': cannot open"), std::string::npos)
      << error;
  const std::string path =
      tempDir() + "/tessera-npy-bad-" + std::to_string(getpid()) + ".npy";
  writeFile(path, toBytes("garbage"));
  EXPECT_FALSE(npy::readFile(path, a, error));
  EXPECT_NE(error.find("'" + path + "': not a .npy file"), std::string::npos)
      << error;
  std::remove(path.c_str());
}

TEST(Npy, AtomicWriteLeavesNothingBehindOnFailure) {
  std::string dir = tempDir() + "/tessera-npy-dir-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const float v[2] = {1, 2};
  const int64_t shape[1] = {2};
  std::string error;
  // Unsupported dtype: nothing written.
  EXPECT_FALSE(npy::writeFileAtomic(dir + "/a.npy", TSR_DTYPE_BF16, shape, 1,
                                    v, 4, error));
  EXPECT_EQ(filesIn(dir), 0u);
  // Target is a directory: rename fails, the temp file is removed.
  ASSERT_EQ(mkdir((dir + "/sub.npy").c_str(), 0755), 0);
  EXPECT_FALSE(npy::writeFileAtomic(dir + "/sub.npy", TSR_DTYPE_F32, shape, 1,
                                    v, 8, error));
  EXPECT_NE(error.find("'" + dir + "/sub.npy': cannot write"),
            std::string::npos)
      << error;
  EXPECT_EQ(filesIn(dir), 1u);
  // Missing directory.
  EXPECT_FALSE(npy::writeFileAtomic(dir + "/missing/a.npy", TSR_DTYPE_F32,
                                    shape, 1, v, 8, error));
  EXPECT_NE(error.find("cannot create a temporary file"), std::string::npos)
      << error;
  // Success replaces an existing file.
  writeFile(dir + "/b.npy", toBytes("old"));
  ASSERT_TRUE(npy::writeFileAtomic(dir + "/b.npy", TSR_DTYPE_F32, shape, 1, v,
                                   8, error))
      << error;
  npy::Array a;
  ASSERT_TRUE(npy::readFile(dir + "/b.npy", a, error)) << error;
  EXPECT_EQ(filesIn(dir), 2u);
  std::remove((dir + "/b.npy").c_str());
  rmdir((dir + "/sub.npy").c_str());
  rmdir(dir.c_str());
}
