// Built-in codecs: round trips, byte order equal to numeric order, and
// decode errors that name the type.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "atomix/codec.h"
#include "atomix/v1/counter.pb.h"
#include "gtest/gtest.h"

namespace atomix {
namespace {

template <class T>
void ExpectRoundTripAndOrder(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  std::vector<std::string> encoded;
  for (T v : values) {
    std::string bytes = Codec<T>::Encode(v);
    EXPECT_EQ(bytes.size(), sizeof(T));
    absl::StatusOr<T> back = Codec<T>::Decode(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, v);
    encoded.push_back(std::move(bytes));
  }
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end())) << Codec<T>::TypeName();
}

template <class T>
std::vector<T> Interesting() {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {L::min(),        L::max(),        T(0),  T(1),
                      T(L::max() - 1), T(L::min() + 1), T(42), T(L::max() / 2)};
  if constexpr (std::is_signed_v<T>) {
    v.insert(v.end(), {T(-1), T(-2), T(-42), T(L::min() / 2)});
  }
  return v;
}

TEST(Codec, IntegersRoundTripInNumericOrder) {
  ExpectRoundTripAndOrder(Interesting<int8_t>());
  ExpectRoundTripAndOrder(Interesting<uint8_t>());
  ExpectRoundTripAndOrder(Interesting<int16_t>());
  ExpectRoundTripAndOrder(Interesting<uint16_t>());
  ExpectRoundTripAndOrder(Interesting<int32_t>());
  ExpectRoundTripAndOrder(Interesting<uint32_t>());
  ExpectRoundTripAndOrder(Interesting<int64_t>());
  ExpectRoundTripAndOrder(Interesting<uint64_t>());
}

TEST(Codec, AllInt16OrderExhaustively) {
  std::string prev;
  for (int v = std::numeric_limits<int16_t>::min(); v <= std::numeric_limits<int16_t>::max(); ++v) {
    std::string bytes = Codec<int16_t>::Encode(static_cast<int16_t>(v));
    if (!prev.empty()) {
      ASSERT_LT(prev, bytes) << v;
    }
    ASSERT_EQ(*Codec<int16_t>::Decode(bytes), v);
    prev = std::move(bytes);
  }
}

TEST(Codec, IntegerEncodingIsBigEndianWithSignFlipped) {
  EXPECT_EQ(Codec<int32_t>::Encode(0), std::string("\x80\x00\x00\x00", 4));
  EXPECT_EQ(Codec<int32_t>::Encode(-1), std::string("\x7f\xff\xff\xff", 4));
  EXPECT_EQ(Codec<uint16_t>::Encode(0x0102), std::string("\x01\x02", 2));
}

TEST(Codec, IntegerDecodeErrorNamesTheType) {
  absl::StatusOr<int64_t> r = Codec<int64_t>::Decode("abc");
  ASSERT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_NE(r.status().message().find("int64"), absl::string_view::npos) << r.status();
  EXPECT_NE(r.status().message().find("expected 8 bytes, got 3"), absl::string_view::npos);
  absl::StatusOr<uint16_t> u = Codec<uint16_t>::Decode("");
  ASSERT_TRUE(absl::IsInvalidArgument(u.status()));
  EXPECT_NE(u.status().message().find("uint16"), absl::string_view::npos) << u.status();
}

TEST(Codec, Bool) {
  EXPECT_EQ(*Codec<bool>::Decode(Codec<bool>::Encode(true)), true);
  EXPECT_EQ(*Codec<bool>::Decode(Codec<bool>::Encode(false)), false);
  EXPECT_LT(Codec<bool>::Encode(false), Codec<bool>::Encode(true));
  absl::StatusOr<bool> bad = Codec<bool>::Decode(std::string(1, '\x02'));
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("bool"), absl::string_view::npos);
  EXPECT_FALSE(Codec<bool>::Decode("").ok());
}

TEST(Codec, StringsAndBytesAreVerbatim) {
  const std::string s("a\0b\xff", 4);
  EXPECT_EQ(Codec<std::string>::Encode(s), s);
  EXPECT_EQ(*Codec<std::string>::Decode(s), s);
  const Bytes b = {0, 1, 255};
  EXPECT_EQ(Codec<Bytes>::Encode(b), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(*Codec<Bytes>::Decode(Codec<Bytes>::Encode(b)), b);
}

TEST(Codec, ProtobufMessages) {
  v1::CounterSet m;
  m.set_value(-7);
  absl::StatusOr<v1::CounterSet> back =
      Codec<v1::CounterSet>::Decode(Codec<v1::CounterSet>::Encode(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->value(), -7);
  absl::StatusOr<v1::CounterSet> bad = Codec<v1::CounterSet>::Decode("\xff\xff\xff");
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("atomix.v1.CounterSet"), absl::string_view::npos)
      << bad.status();
}

struct Point {
  int x = 0;
};
struct PointCodec {
  static std::string Encode(const Point& p) { return std::to_string(p.x); }
  static absl::StatusOr<Point> Decode(std::string_view b) {
    if (b.empty()) return DecodeError(TypeName(), "empty");
    return Point{std::stoi(std::string(b))};
  }
  static std::string TypeName() { return "Point"; }
};

TEST(Codec, UserCodecAndDecodeError) {
  EXPECT_EQ(PointCodec::Decode(PointCodec::Encode(Point{5}))->x, 5);
  absl::Status s = PointCodec::Decode("").status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "cannot decode Point: empty");
}

}  // namespace
}  // namespace atomix
