// Codec<T>: how typed keys, values and elements become bytes on the wire.
//
//   auto m = atomix::GetMap<std::string, int64_t>("scores");   // built-in codecs
//   auto c = atomix::GetMap<std::string, Config>("config");    // Config is a protobuf message
//
// Built in:
//   - std::string: the bytes as they are;
//   - bool: one byte, 0 or 1;
//   - other integral types: sizeof(T) bytes, big-endian, with the sign
//     bit flipped for signed types, so byte order equals numeric order and
//     integer keys list in numeric order;
//   - atomix::Bytes (std::vector<uint8_t>): the bytes as they are;
//   - protobuf messages (anything derived from google::protobuf::MessageLite):
//     the binary wire format.
//
// A user codec is a struct with two static functions and a name:
//
//   struct PointCodec {
//     static std::string Encode(const Point& p);
//     static absl::StatusOr<Point> Decode(std::string_view bytes);
//     static std::string TypeName() { return "Point"; }
//   };
//
// Either specialize atomix::Codec<Point> with those members, or pass the codec
// as a template argument: atomix::Map<std::string, Point, atomix::Codec<std::string>, PointCodec>.
// Decode must fail with INVALID_ARGUMENT naming the type; DecodeError() below
// builds such a status.
//
// Thread-safety: codecs are stateless; call them from any thread.
#ifndef ATOMIX_CODEC_H_
#define ATOMIX_CODEC_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message_lite.h"

namespace atomix {

using Bytes = std::vector<uint8_t>;

// INVALID_ARGUMENT: "cannot decode <type>: <why>".
inline absl::Status DecodeError(std::string_view type_name, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot decode ", absl::string_view(type_name.data(), type_name.size()), ": ",
                   absl::string_view(why.data(), why.size())));
}

template <class T, class Enable = void>
struct Codec {
  static_assert(sizeof(T) == 0,
                "atomix: no Codec<T> for this type; specialize atomix::Codec<T> or pass a "
                "codec as a template argument (see atomix/codec.h)");
};

template <>
struct Codec<std::string> {
  static std::string Encode(const std::string& v) { return v; }
  static absl::StatusOr<std::string> Decode(std::string_view b) { return std::string(b); }
  static std::string TypeName() { return "std::string"; }
};

template <>
struct Codec<Bytes> {
  static std::string Encode(const Bytes& v) { return std::string(v.begin(), v.end()); }
  static absl::StatusOr<Bytes> Decode(std::string_view b) { return Bytes(b.begin(), b.end()); }
  static std::string TypeName() { return "atomix::Bytes"; }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  using U = std::make_unsigned_t<T>;

  static std::string Encode(T v) {
    U u = static_cast<U>(v);
    if constexpr (std::is_signed_v<T>) u ^= U(1) << (sizeof(T) * 8 - 1);
    std::string out(sizeof(T), '\0');
    for (size_t i = 0; i < sizeof(T); ++i) {
      out[sizeof(T) - 1 - i] = static_cast<char>(u & 0xff);
      if constexpr (sizeof(T) > 1) u >>= 8;
    }
    return out;
  }

  static absl::StatusOr<T> Decode(std::string_view b) {
    if (b.size() != sizeof(T)) {
      return DecodeError(TypeName(), absl::StrCat("expected ", sizeof(T), " bytes, got ", b.size()));
    }
    U u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      if constexpr (sizeof(T) > 1) u <<= 8;
      u |= static_cast<uint8_t>(b[i]);
    }
    if constexpr (std::is_signed_v<T>) u ^= U(1) << (sizeof(T) * 8 - 1);
    return static_cast<T>(u);
  }

  static std::string TypeName() {
    return absl::StrCat(std::is_signed_v<T> ? "int" : "uint", sizeof(T) * 8);
  }
};

template <>
struct Codec<bool> {
  static std::string Encode(bool v) { return std::string(1, v ? '\1' : '\0'); }
  static absl::StatusOr<bool> Decode(std::string_view b) {
    if (b.size() != 1 || static_cast<uint8_t>(b[0]) > 1) {
      return DecodeError(TypeName(), "expected one byte, 0 or 1");
    }
    return b[0] == 1;
  }
  static std::string TypeName() { return "bool"; }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_base_of_v<google::protobuf::MessageLite, T>>> {
  static std::string Encode(const T& v) { return v.SerializeAsString(); }
  static absl::StatusOr<T> Decode(std::string_view b) {
    T msg;
    if (!msg.ParseFromArray(b.data(), static_cast<int>(b.size()))) {
      return DecodeError(TypeName(), "malformed protobuf message");
    }
    return msg;
  }
  static std::string TypeName() { return std::string(T().GetTypeName()); }
};

}  // namespace atomix

#endif  // ATOMIX_CODEC_H_
