// The primitive registry: every primitive type of the protocol is
// registered exactly once, with its own operation field and name, and the
// registry answers for requests and types the way the validator and store
// rely on. No network.
#include <set>
#include <string>

#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

TEST(BrokerRegistry, EveryProtocolTypeIsRegisteredOnce) {
  std::set<int> types, ops;
  std::set<std::string> names;
  for (const PrimitiveSpec* spec : Primitives()) {
    EXPECT_TRUE(types.insert(spec->type).second) << spec->name;
    EXPECT_TRUE(ops.insert(spec->op).second) << spec->name;
    EXPECT_TRUE(names.insert(std::string(spec->name)).second) << spec->name;
    EXPECT_NE(spec->make, nullptr) << spec->name;
    EXPECT_NE(spec->validate, nullptr) << spec->name;
    ASSERT_NE(spec->make(), nullptr);
    EXPECT_EQ(spec->make()->type(), spec->type) << spec->name;
    EXPECT_EQ(FindPrimitive(spec->type), spec);
  }
  const google::protobuf::EnumDescriptor* enum_type = v1::PrimitiveType_descriptor();
  for (int i = 0; i < enum_type->value_count(); ++i) {
    const auto type = static_cast<v1::PrimitiveType>(enum_type->value(i)->number());
    if (type == v1::PRIMITIVE_TYPE_UNSPECIFIED) continue;
    EXPECT_NE(FindPrimitive(type), nullptr) << enum_type->value(i)->name() << " is not registered";
  }
  EXPECT_EQ(FindPrimitive(v1::PRIMITIVE_TYPE_UNSPECIFIED), nullptr);
  EXPECT_EQ(FindPrimitive(static_cast<v1::PrimitiveType>(999)), nullptr);
}

TEST(BrokerRegistry, RequestsFindTheirPrimitiveByOperation) {
  using testing::MakeRequest;
  using testing::ParseRequest;
  EXPECT_EQ(PrimitiveOf(MakeRequest(v1::MAP, "m", "map { size {} }")), &MapPrimitive());
  // The operation decides, not the declared type (the validator compares).
  EXPECT_EQ(PrimitiveOf(MakeRequest(v1::COUNTER, "c", "lock { get {} }")), &LockPrimitive());
  EXPECT_EQ(PrimitiveOf(MakeRequest(v1::COUNTER, "c", "open {}")), nullptr);
  EXPECT_EQ(PrimitiveOf(ParseRequest("session { keep_alive {} }")), nullptr);
  EXPECT_EQ(PrimitiveOf(ParseRequest("cancel { sequence: 1 }")), nullptr);
}

TEST(BrokerRegistry, FencesAndSessionOwnershipComeFromTheSpec) {
  using testing::MakeRequest;
  const v1::Request fenced = MakeRequest(
      v1::MAP, "m", R"pb(map { put { key: "k" if_fence { lock: "l" version: 3 } } })pb");
  ASSERT_NE(MapPrimitive().fence_of(fenced), nullptr);
  EXPECT_EQ(MapPrimitive().fence_of(fenced)->version(), 3);
  EXPECT_EQ(MapPrimitive().fence_of(MakeRequest(v1::MAP, "m", R"pb(map { put { key: "k" } })pb")),
            nullptr);
  const v1::Request ephemeral =
      MakeRequest(v1::VALUE, "v", R"pb(value { set { value: "x" ephemeral: true } })pb");
  EXPECT_TRUE(ValuePrimitive().session_owned(ephemeral));
  EXPECT_FALSE(ValuePrimitive().session_owned(MakeRequest(v1::VALUE, "v", "value { get {} }")));
  EXPECT_TRUE(LockPrimitive().session_owned(MakeRequest(v1::LOCK, "l", "lock { get {} }")));
  EXPECT_EQ(CounterPrimitive().session_owned, nullptr);
  EXPECT_EQ(CounterPrimitive().fence_of, nullptr);
  EXPECT_TRUE(LockPrimitive().has_timers);
  EXPECT_FALSE(ElectionPrimitive().has_timers);
}

}  // namespace
}  // namespace atomix::broker
