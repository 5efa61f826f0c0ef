// Sequential models of atomix primitives for the linearizability checker.
//
// Thread-safety: pure functions.
#ifndef ATOMIX_TESTS_SUPPORT_MODELS_H_
#define ATOMIX_TESTS_SUPPORT_MODELS_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/hash/hash.h"
#include "absl/status/status.h"

namespace atomix::testing {

// ---- Counter -------------------------------------------------------------

struct CounterState {
  int64_t value = 0;
  int64_t version = 0;
  bool operator==(const CounterState&) const = default;
  template <class H>
  friend H AbslHashValue(H h, const CounterState& s) {
    return H::combine(std::move(h), s.value, s.version);
  }
};

struct CounterOp {
  enum Kind { kGet, kSet, kAdd, kCompareAndSet };
  int64_t invoke = 0;
  int64_t complete = 0;
  Kind kind = kGet;
  int64_t a = 0;  // Set value, Add delta, CAS expect
  int64_t b = 0;  // CAS update
  absl::StatusCode code = absl::StatusCode::kOk;
  int64_t value = 0;    // returned value (or current value on CAS mismatch)
  int64_t version = 0;  // returned version (mutations)
};

inline std::optional<CounterState> CounterStep(const CounterState& s, const CounterOp& op) {
  auto mutate = [&](int64_t expect_value) -> std::optional<CounterState> {
    if (op.code != absl::StatusCode::kOk || op.value != expect_value || op.version <= s.version) {
      return std::nullopt;
    }
    return CounterState{expect_value, op.version};
  };
  switch (op.kind) {
    case CounterOp::kGet:
      if (op.code == absl::StatusCode::kOk && op.value == s.value) return s;
      return std::nullopt;
    case CounterOp::kSet:
      return mutate(op.a);
    case CounterOp::kAdd:
      return mutate(s.value + op.a);
    case CounterOp::kCompareAndSet:
      if (s.value == op.a) return mutate(op.b);
      if (op.code == absl::StatusCode::kFailedPrecondition && op.value == s.value) return s;
      return std::nullopt;
  }
  return std::nullopt;
}

// ---- One map key (or a Value) ---------------------------------------------

struct KeyState {
  bool present = false;
  int64_t value = 0;
  int64_t version = 0;  // last write or removal revision
  bool operator==(const KeyState&) const = default;
  template <class H>
  friend H AbslHashValue(H h, const KeyState& s) {
    return H::combine(std::move(h), s.present, s.value, s.version);
  }
};

struct KeyOp {
  enum Kind { kPut, kGet, kUpdateIfVersion, kRemove };
  int64_t invoke = 0;
  int64_t complete = 0;
  Kind kind = kGet;
  int64_t value = 0;       // Put/Update input, or Get output
  int64_t if_version = 0;  // Update input
  absl::StatusCode code = absl::StatusCode::kOk;
  bool present = false;    // Get output
  int64_t version = 0;     // Get output, mutation output, or current version on mismatch
};

inline std::optional<KeyState> KeyStep(const KeyState& s, const KeyOp& op) {
  using absl::StatusCode;
  auto written = [&](bool present, int64_t value) -> std::optional<KeyState> {
    if (op.code != StatusCode::kOk || op.version <= s.version) return std::nullopt;
    return KeyState{present, present ? value : 0, op.version};
  };
  switch (op.kind) {
    case KeyOp::kGet:
      if (op.code != StatusCode::kOk || op.present != s.present) return std::nullopt;
      if (s.present && (op.value != s.value || op.version != s.version)) return std::nullopt;
      return s;
    case KeyOp::kPut:
      return written(true, op.value);
    case KeyOp::kUpdateIfVersion:
      if (!s.present) {
        return op.code == StatusCode::kNotFound ? std::optional<KeyState>(s) : std::nullopt;
      }
      if (s.version != op.if_version) {
        return op.code == StatusCode::kFailedPrecondition && op.version == s.version
                   ? std::optional<KeyState>(s)
                   : std::nullopt;
      }
      return written(true, op.value);
    case KeyOp::kRemove:
      if (!s.present) {
        return op.code == StatusCode::kNotFound ? std::optional<KeyState>(s) : std::nullopt;
      }
      return written(false, 0);
  }
  return std::nullopt;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_MODELS_H_
