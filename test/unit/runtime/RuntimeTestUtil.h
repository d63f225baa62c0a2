//===- test/unit/runtime/RuntimeTestUtil.h - Shared test helpers -*- C++ -*-===//
#ifndef TESSERA_TEST_RUNTIMETESTUTIL_H
#define TESSERA_TEST_RUNTIMETESTUTIL_H

#include "ArtifactWriterForTest.h"
#include "tessera/Runtime.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::test {

/// The C compiler CMake found, baked in at configure time.
inline std::string testCompiler() {
#ifdef TESSERA_TEST_CC
  return TESSERA_TEST_CC;
#else
  return "";
#endif
}

/// The test model's shared object, compiled once per process. Sets `skip`
/// when there is no C compiler at all; a failing compiler is a failure.
struct HostCodeResult {
  Bytes so;
  std::string skip, error;
};

inline const HostCodeResult &testHostCode() {
  static const HostCodeResult result = [] {
    HostCodeResult r;
    const std::string cc = testCompiler();
    if (cc.empty() || access(cc.c_str(), X_OK) != 0)
      r.skip = "no C compiler to build the test model's host code (CMake "
               "found '" + cc + "')";
    else
      compileSharedObject(cc, testModelSource(), tempDir(), r.so, r.error);
    return r;
  }();
  return result;
}

/// Skips (no compiler) or fails (compiler broken) the current test unless
/// the host code is available; declares `const Bytes &NAME`.
#define TSR_REQUIRE_HOST_CODE(NAME)                                            \
  const ::tessera::test::HostCodeResult &NAME##Result =                        \
      ::tessera::test::testHostCode();                                         \
  if (!NAME##Result.skip.empty())                                              \
    GTEST_SKIP() << NAME##Result.skip;                                         \
  ASSERT_TRUE(NAME##Result.error.empty()) << NAME##Result.error;               \
  const ::tessera::test::Bytes &NAME = NAME##Result.so

/// Owns an error and prints as its code and message.
struct ErrorHolder {
  tsr_error *error = nullptr;
  explicit ErrorHolder(tsr_error *e) : error(e) {}
  ErrorHolder(const ErrorHolder &) = delete;
  ~ErrorHolder() { tsr_error_free(error); }
  std::string message() const { return tsr_error_message(error); }
  tsr_code code() const { return tsr_error_code(error); }
  std::string describe() const {
    return std::string(tsr_code_name(code())) + ": " + message();
  }
};

/// Expects `call` (a tsr_error* expression) to fail with `code` and a
/// message containing `substring`.
#define EXPECT_TSR_ERROR(call, expectedCode, substring)                        \
  do {                                                                         \
    ::tessera::test::ErrorHolder holder_(call);                                \
    EXPECT_NE(holder_.error, nullptr) << "expected " #expectedCode;            \
    EXPECT_EQ(holder_.code(), expectedCode) << holder_.describe();             \
    EXPECT_NE(holder_.message().find(substring), std::string::npos)            \
        << "message lacks \"" << (substring) << "\": " << holder_.describe();  \
  } while (0)

#define EXPECT_TSR_OK(call)                                                    \
  do {                                                                         \
    ::tessera::test::ErrorHolder holder_(call);                                \
    EXPECT_EQ(holder_.error, nullptr) << holder_.describe();                   \
  } while (0)

#define ASSERT_TSR_OK(call)                                                    \
  do {                                                                         \
    ::tessera::test::ErrorHolder holder_(call);                                \
    ASSERT_EQ(holder_.error, nullptr) << holder_.describe();                   \
  } while (0)

/// Loads from memory and expects failure with `code` and `substring`; the
/// out-parameter must come back NULL.
inline void expectLoadError(const Bytes &artifact, tsr_code code,
                            const std::string &substring) {
  tsr_model *model = reinterpret_cast<tsr_model *>(&model);
  EXPECT_TSR_ERROR(
      tsr_model_load_memory(artifact.data(), artifact.size(), &model), code,
      substring);
  EXPECT_EQ(model, nullptr);
  if (model && model != reinterpret_cast<tsr_model *>(&model))
    tsr_model_free(model);
}

} // namespace tessera::test

#endif // TESSERA_TEST_RUNTIMETESTUTIL_H
