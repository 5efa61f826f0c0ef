// Value<T> and codecs over an in-process broker core.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atomix/codec.h"
#include "atomix/counter.h"
#include "atomix/internal/set_core.h"
#include "atomix/status.h"
#include "atomix/value.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::FakeClientCore;

struct Point {
  int x = 0;
  int y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

// "x,y". Its Decode error does not follow the "cannot decode" convention, to
// check that the proxy adds it.
struct PointCodec {
  static std::string Encode(const Point& p) { return absl::StrCat(p.x, ",", p.y); }
  static absl::StatusOr<Point> Decode(std::string_view b) {
    std::vector<std::string> parts = absl::StrSplit(absl::string_view(b.data(), b.size()), ',');
    Point p;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &p.x) ||
        !absl::SimpleAtoi(parts[1], &p.y)) {
      return absl::DataLossError("not x,y");
    }
    return p;
  }
  static std::string TypeName() { return "Point"; }
};

class ValueTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(ValueTest, AbsentUntilWritten) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(core_, "leader")));
  EXPECT_EQ(v.name(), "leader");
  ASSERT_OK_AND_ASSIGN(auto got, v.Get());
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(core_->calls().front().request.type(), v1::VALUE);
}

TEST_F(ValueTest, InsertSetDeleteWithExactVersions) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(core_, "leader")));
  ASSERT_OK_AND_ASSIGN(Version v1, v.Insert("a"));
  EXPECT_EQ(v1, 1);
  auto again = v.Insert("b");
  EXPECT_CODE(again, kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(auto got, v.Get());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, (Versioned<std::string>{"a", 1}));

  ASSERT_OK_AND_ASSIGN(Version v2, v.Set("b"));
  EXPECT_EQ(v2, 2);
  ASSERT_OK_AND_ASSIGN(Version v3, v.Set("c", IfVersion(2)));
  EXPECT_EQ(v3, 3);
  ASSERT_OK_AND_ASSIGN(got, v.Get());
  EXPECT_EQ(*got, (Versioned<std::string>{"c", 3}));

  ASSERT_OK_AND_ASSIGN(Version v4, v.Delete());
  EXPECT_EQ(v4, 4);
  ASSERT_OK_AND_ASSIGN(got, v.Get());
  EXPECT_FALSE(got.has_value());
  EXPECT_CODE(v.Delete(), kNotFound);

  // Set without IfVersion creates the value.
  ASSERT_OK_AND_ASSIGN(Version v5, v.Set(""));
  EXPECT_EQ(v5, 5);
  ASSERT_OK_AND_ASSIGN(got, v.Get());
  EXPECT_EQ(*got, (Versioned<std::string>{"", 5}));
  EXPECT_EQ(core_->revision(), 5);
}

TEST_F(ValueTest, IfVersionMismatchCarriesCurrentVersion) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(core_, "leader")));
  ASSERT_OK(v.Set("a"));  // 1
  ASSERT_OK(v.Set("b"));  // 2
  auto w = v.Set("c", IfVersion(1));
  EXPECT_CODE(w, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(w.status()), 2);
  auto d = v.Delete(IfVersion(1));
  EXPECT_CODE(d, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(d.status()), 2);
  EXPECT_EQ(core_->revision(), 2);
  ASSERT_OK_AND_ASSIGN(Version dv, v.Delete(IfVersion(2)));
  EXPECT_EQ(dv, 3);
  // IfVersion on an absent value: NOT_FOUND, no current version.
  auto absent = v.Set("x", IfVersion(3));
  EXPECT_CODE(absent, kNotFound);
  EXPECT_EQ(CurrentVersion(absent.status()), std::nullopt);
  EXPECT_CODE(v.Delete(IfVersion(3)), kNotFound);
}

TEST_F(ValueTest, WriteOptionsCarryCallOptions) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(core_, "leader")));
  std::stop_source stop;
  stop.request_stop();
  WriteOptions w = IfVersion(1);
  w.cancel = stop.get_token();
  EXPECT_CODE(v.Set("a", w), kCancelled);
  EXPECT_CODE(v.Get(WithCancel(stop.get_token())), kCancelled);
}

TEST_F(ValueTest, RequestsAndIdempotence) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(core_, "leader")));
  core_->clear_calls();
  ASSERT_OK(v.Get());
  ASSERT_OK(v.Insert("a"));
  ASSERT_OK(v.Set("b", IfVersion(1)));
  ASSERT_OK(v.Set("c"));
  ASSERT_OK(v.Delete());
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_TRUE(calls[0].idempotent);
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_FALSE(calls[i].idempotent) << i;
  EXPECT_TRUE(calls[2].request.value().set().has_if_version());
  EXPECT_EQ(calls[2].request.value().set().if_version(), 1);
  EXPECT_FALSE(calls[3].request.value().set().has_if_version());
  EXPECT_FALSE(calls[4].request.value().delete_().has_if_version());
}

TEST_F(ValueTest, DecodeFailureNamesTypeAndValue) {
  ASSERT_OK_AND_ASSIGN(auto s, (internal::GetValue<std::string>(core_, "cfg")));
  ASSERT_OK_AND_ASSIGN(auto i, (internal::GetValue<int64_t>(core_, "cfg")));
  ASSERT_OK(s.Set("abc"));
  auto got = i.Get();
  EXPECT_CODE(got, kInvalidArgument);
  EXPECT_EQ(got.status().message(), "cannot decode int64: expected 8 bytes, got 3 (value \"cfg\")");
}

TEST_F(ValueTest, IntegerAndBoolCodecs) {
  ASSERT_OK_AND_ASSIGN(auto i, (internal::GetValue<int64_t>(core_, "i")));
  ASSERT_OK(i.Set(-12345678901234));
  ASSERT_OK_AND_ASSIGN(auto gi, i.Get());
  EXPECT_EQ((*gi).value, -12345678901234);

  ASSERT_OK_AND_ASSIGN(auto b, (internal::GetValue<bool>(core_, "b")));
  ASSERT_OK(b.Set(true));
  ASSERT_OK_AND_ASSIGN(auto gb, b.Get());
  EXPECT_TRUE((*gb).value);
  // A uint16 view of the one-byte bool fails to decode.
  ASSERT_OK_AND_ASSIGN(auto u, (internal::GetValue<uint16_t>(core_, "b")));
  auto gu = u.Get();
  EXPECT_CODE(gu, kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(gu.status().message(), "cannot decode uint16:")) << gu.status();
}

TEST_F(ValueTest, ProtobufCodec) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<v1::MapEntry>(core_, "entry")));
  v1::MapEntry e;
  e.set_key("k");
  e.set_value("v");
  e.set_version(9);
  ASSERT_OK(v.Set(e));
  ASSERT_OK_AND_ASSIGN(auto got, v.Get());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value.key(), "k");
  EXPECT_EQ(got->value.version(), 9);

  ASSERT_OK_AND_ASSIGN(auto raw, (internal::GetValue<std::string>(core_, "entry")));
  ASSERT_OK(raw.Set("\xff\xff\xff"));
  auto bad = v.Get();
  EXPECT_CODE(bad, kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad.status().message(), "cannot decode atomix.v1.MapEntry:"))
      << bad.status();
}

TEST_F(ValueTest, CustomCodecAsTemplateArgument) {
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<Point, PointCodec>(core_, "p")));
  ASSERT_OK(v.Set(Point{3, -4}));
  ASSERT_OK_AND_ASSIGN(auto got, v.Get());
  EXPECT_EQ(got->value, (Point{3, -4}));

  ASSERT_OK_AND_ASSIGN(auto raw, (internal::GetValue<std::string>(core_, "p")));
  ASSERT_OK(raw.Set("nope"));
  auto bad = v.Get();
  // Whatever the codec returns, the proxy reports INVALID_ARGUMENT naming the
  // type.
  EXPECT_CODE(bad, kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "cannot decode Point: not x,y (value \"p\")");
}

TEST_F(ValueTest, SizeLimitAndNames) {
  broker::Limits limits;
  limits.max_value_bytes = 16;
  auto small = FakeClientCore::Sessionless(limits);
  ASSERT_OK_AND_ASSIGN(auto v, (internal::GetValue<std::string>(small, "v")));
  EXPECT_OK(v.Set(std::string(16, 'x')));
  EXPECT_CODE(v.Set(std::string(17, 'x')), kInvalidArgument);
  EXPECT_CODE(v.Insert(std::string(17, 'x')), kInvalidArgument);
  EXPECT_CODE((internal::GetValue<std::string>(core_, "")), kInvalidArgument);
}

TEST_F(ValueTest, NameOfAnotherTypeIsFailedPrecondition) {
  ASSERT_OK(internal::GetCounter(core_, "jobs"));
  EXPECT_CODE((internal::GetValue<std::string>(core_, "jobs")), kFailedPrecondition);
}

TEST(DecodeFailureTest, ShortensAndEscapesKeys) {
  std::string key = std::string("a\x01", 2) + std::string(100, 'k');
  absl::Status s = internal::DecodeFailure(absl::InvalidArgumentError("cannot decode int32: bad"),
                                           "int32", internal::kMapKind, "m", &key);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), absl::StrCat("cannot decode int32: bad (map \"m\", key \"a\\x01",
                                      std::string(62, 'k'), "...\")"));
  std::string element = "e";
  s = internal::DecodeFailure(absl::UnknownError("odd"), "E", internal::kSetKind, "s",
                              &element);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot decode E: odd (set \"s\", element \"e\")");
}

}  // namespace
}  // namespace atomix
