// Small status assertions for the primitives tests (this abseil has no status
// matchers).
#ifndef ATOMIX_TESTS_UNIT_PRIMITIVES_TEST_UTIL_H_
#define ATOMIX_TESTS_UNIT_PRIMITIVES_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/stream_range.h"
#include "gtest/gtest.h"

namespace atomix::testing {

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <class T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// Everything a range yields until it ends; `end` gets the error that ended
// it, or OK.
template <class T>
std::vector<T> Drain(StreamRange<T> range, absl::Status* end = nullptr) {
  std::vector<T> out;
  for (auto& item : range) {
    if (!item.ok()) {
      if (end != nullptr) *end = item.status();
      return out;
    }
    out.push_back(*std::move(item));
  }
  if (end != nullptr) *end = absl::OkStatus();
  return out;
}

}  // namespace atomix::testing

#define ATOMIX_CONCAT_INNER_(a, b) a##b
#define ATOMIX_CONCAT_(a, b) ATOMIX_CONCAT_INNER_(a, b)

#define ASSERT_OK(...)                                        \
  do {                                                        \
    const auto& atomix_ok_ = (__VA_ARGS__);                   \
    ASSERT_TRUE(::atomix::testing::StatusOf(atomix_ok_).ok()) \
        << ::atomix::testing::StatusOf(atomix_ok_);           \
  } while (0)
#define EXPECT_OK(...)                                        \
  do {                                                        \
    const auto& atomix_ok_ = (__VA_ARGS__);                   \
    EXPECT_TRUE(::atomix::testing::StatusOf(atomix_ok_).ok()) \
        << ::atomix::testing::StatusOf(atomix_ok_);           \
  } while (0)

// ASSERT_OK_AND_ASSIGN(auto x, Foo());
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(ATOMIX_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status();           \
  lhs = *std::move(tmp)

// EXPECT_CODE(map.Get("k"), kNotFound);
#define EXPECT_CODE(expr, code_name)                                                             \
  do {                                                                                           \
    const auto& atomix_result_ = (expr);                                                         \
    EXPECT_EQ(::atomix::testing::StatusOf(atomix_result_).code(), ::absl::StatusCode::code_name) \
        << ::atomix::testing::StatusOf(atomix_result_);                                          \
  } while (0)

#endif  // ATOMIX_TESTS_UNIT_PRIMITIVES_TEST_UTIL_H_
