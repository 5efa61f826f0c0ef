// Custom codecs: how your own types become the bytes a primitive stores.
//
// Two ways to plug one in:
//   1. specialize atomix::Codec<T>: every Map/Set/Value of T then uses it;
//   2. pass a codec struct as a template argument, to pick an encoding for
//      one primitive only.
// Decode failures come back as INVALID_ARGUMENT naming the type.
//
// Build: the example_custom_codec target. Run against a broker at
// ATOMIX_BROKER (default 127.0.0.1:5679):
//   ./example_custom_codec
// Safe to run any number of times; prints the error and exits 1 when the
// broker cannot be reached or a call fails.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "atomix/atomix.h"

struct Point {
  int32_t x = 0;
  int32_t y = 0;
};

// 1. A specialization: a Point is 8 bytes, x then y, each in the built-in
//    int32 encoding.
template <>
struct atomix::Codec<Point> {
  static std::string Encode(const Point& p) {
    return Codec<int32_t>::Encode(p.x) + Codec<int32_t>::Encode(p.y);
  }
  static absl::StatusOr<Point> Decode(std::string_view bytes) {
    if (bytes.size() != 8) return atomix::DecodeError(TypeName(), "expected 8 bytes");
    absl::StatusOr<int32_t> x = Codec<int32_t>::Decode(bytes.substr(0, 4));
    absl::StatusOr<int32_t> y = Codec<int32_t>::Decode(bytes.substr(4, 4));
    if (!x.ok()) return x.status();
    if (!y.ok()) return y.status();
    return Point{*x, *y};
  }
  static std::string TypeName() { return "Point"; }
};

// 2. A codec for one map only: keys are stored in lower case, so "Depot-A"
//    and "depot-a" are the same key.
struct LowercaseKey {
  static std::string Encode(const std::string& key) {
    std::string out = key;
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  }
  static absl::StatusOr<std::string> Decode(std::string_view bytes) { return std::string(bytes); }
  static std::string TypeName() { return "lowercase string"; }
};

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  // Map<K, V, KC, VC>: LowercaseKey for the keys, Codec<Point> for values.
  absl::StatusOr<atomix::Map<std::string, Point, LowercaseKey>> depots =
      atomix::GetMap<std::string, Point, LowercaseKey>(*client, "examples/depots");
  if (!depots.ok()) {
    std::cerr << "open: " << depots.status() << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Version> put = depots->Put("Depot-A", Point{3, -4});
  if (!put.ok()) {
    std::cerr << "put: " << put.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::optional<atomix::Versioned<Point>>> got = depots->Get("DEPOT-a");
  if (!got.ok()) {
    std::cerr << "get: " << got.status() << "\n";
    return 1;
  }
  if (got->has_value()) {
    std::cout << "depot-a is at (" << (*got)->value.x << ", " << (*got)->value.y << ")\n";
  }

  // Reading bytes that are not a Point: the write succeeds, the typed read
  // fails with INVALID_ARGUMENT "cannot decode Point: expected 8 bytes
  // (value "examples/point")".
  absl::StatusOr<atomix::Value<std::string>> text =
      atomix::GetValue<std::string>(*client, "examples/point");
  absl::StatusOr<atomix::Value<Point>> point = atomix::GetValue<Point>(*client, "examples/point");
  if (!text.ok() || !point.ok()) {
    std::cerr << "open: " << (text.ok() ? point.status() : text.status()) << "\n";
    return 1;
  }
  absl::StatusOr<atomix::Version> wrote = text->Set("not a point");
  if (!wrote.ok()) {
    std::cerr << "set: " << wrote.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::optional<atomix::Versioned<Point>>> bad = point->Get();
  if (absl::IsInvalidArgument(bad.status())) {
    std::cout << "as expected: " << bad.status().message() << "\n";
  } else {
    std::cerr << "expected INVALID_ARGUMENT, got " << bad.status() << "\n";
    return 1;
  }
  return 0;
}
