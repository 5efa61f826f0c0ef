// ValueState: the pure value state machine, driven with a fixed logical time
// and no store.
#include "broker-sim/src/state/value.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::StateDriver;

constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kAlreadyExists = 6;
constexpr int kFailedPrecondition = 9;

TEST(BrokerValue, StartsAbsent) {
  StateDriver value(v1::VALUE, "cfg");
  v1::Response r = value.Apply("value { get {} }");
  EXPECT_FALSE(r.has_error());
  EXPECT_TRUE(r.has_value());
  EXPECT_FALSE(r.value().present());
  EXPECT_EQ(r.value().version(), 0);
  EXPECT_EQ(r.revision(), 0);
}

TEST(BrokerValue, SetAndGet) {
  StateDriver value(v1::VALUE, "cfg");
  v1::Response r = value.Apply(R"pb(value { set { value: "a" } })pb");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.value().version(), 1);
  EXPECT_EQ(r.revision(), 1);

  r = value.Apply(R"pb(value { set { value: "b" } })pb");
  EXPECT_EQ(r.value().version(), 2);

  r = value.Apply("value { get {} }");
  EXPECT_TRUE(r.value().present());
  EXPECT_EQ(r.value().value(), "b");
  EXPECT_EQ(r.value().version(), 2);
  EXPECT_EQ(r.revision(), 2);
}

TEST(BrokerValue, SetIfVersion) {
  StateDriver value(v1::VALUE, "cfg");
  v1::Response r =
      value.Apply(R"pb(value { set { value: "a" if_version: 1 } })pb");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(), "value \"cfg\" is absent; expected version 1");
  EXPECT_EQ(value.revision(), 0);

  value.Apply(R"pb(value { set { value: "a" } })pb");
  r = value.Apply(R"pb(value { set { value: "b" if_version: 7 } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "value \"cfg\": expected version 7, current version is 1");
  EXPECT_EQ(r.error().current(), 1);
  EXPECT_EQ(r.revision(), 1);
  EXPECT_FALSE(value.last_mutated());

  r = value.Apply(R"pb(value { set { value: "b" if_version: 1 } })pb");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.value().version(), 2);
  EXPECT_EQ(static_cast<ValueState&>(value.machine()).value(), "b");
}

TEST(BrokerValue, InsertOnlyWhenAbsent) {
  StateDriver value(v1::VALUE, "cfg");
  v1::Response r = value.Apply(R"pb(value { insert { value: "a" } })pb");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.value().version(), 1);

  r = value.Apply(R"pb(value { insert { value: "b" } })pb");
  EXPECT_EQ(r.error().code(), kAlreadyExists);
  EXPECT_EQ(r.error().message(), "value \"cfg\" already exists at version 1");
  EXPECT_EQ(r.revision(), 1);
  EXPECT_EQ(static_cast<ValueState&>(value.machine()).value(), "a");
}

TEST(BrokerValue, DeleteReturnsTheDeletedValue) {
  StateDriver value(v1::VALUE, "cfg");
  v1::Response r = value.Apply("value { delete {} }");
  EXPECT_EQ(r.error().code(), kNotFound);
  EXPECT_EQ(r.error().message(), "value \"cfg\" is absent");
  EXPECT_EQ(value.revision(), 0);

  value.Apply(R"pb(value { set { value: "a" } })pb");
  r = value.Apply("value { delete { if_version: 9 } }");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 1);

  r = value.Apply("value { delete { if_version: 1 } }");
  EXPECT_FALSE(r.has_error());
  EXPECT_TRUE(r.value().present());
  EXPECT_EQ(r.value().value(), "a");
  EXPECT_EQ(r.value().version(), 2);
  EXPECT_EQ(r.revision(), 2);

  r = value.Apply("value { get {} }");
  EXPECT_FALSE(r.value().present());
  EXPECT_EQ(r.revision(), 2);

  // Insert works again after a delete.
  r = value.Apply(R"pb(value { insert { value: "c" } })pb");
  EXPECT_EQ(r.value().version(), 3);
}

TEST(BrokerValue, RejectsForeignOperations) {
  StateDriver value(v1::VALUE, "cfg");
  EXPECT_EQ(value.Apply("counter { get {} }").error().code(), kInvalidArgument);
  EXPECT_EQ(value.Apply("value {}").error().code(), kInvalidArgument);
}

TEST(BrokerValue, DescribeQuotesEscapesAndCutsTheValue) {
  using testing::Holdings;
  StateDriver value(v1::VALUE, "cfg");
  EXPECT_EQ(value.Describe().summary(), "absent");
  value.Apply(R"pb(value { set { value: "hello" } })pb");
  v1::PrimitiveInfo info = value.Describe();
  EXPECT_EQ(info.summary(), "\"hello\" (version 1)");
  EXPECT_EQ(info.holders_size(), 0);  // not ephemeral: nobody holds it

  value.Apply(R"pb(value { set { value: "a\"b\n\x00\xff" } })pb");
  EXPECT_EQ(value.Describe().summary(), R"("a\"b\n\x00\xff" (version 2))");

  // Long values: 200 bytes at most, ending in "...", never half an escape.
  value.Apply("value { set { value: \"" + std::string(300, 'x') + "\" } }");
  EXPECT_EQ(value.Describe().summary(),
            "\"" + std::string(197, 'x') + "...\" (version 3)");
  value.Apply("value { set { value: \"" + std::string(196, 'x') +
              "\\001yyyyyyyyyy\" } }");
  EXPECT_EQ(value.Describe().summary(),
            "\"" + std::string(196, 'x') + "...\" (version 4)");
  value.Apply("value { set { value: \"" + std::string(200, 'x') + "\" } }");
  EXPECT_EQ(value.Describe().summary(),
            "\"" + std::string(200, 'x') + "\" (version 5)");  // fits: no cut

  v1::Request ephemeral =
      testing::MakeRequest(v1::VALUE, "cfg", R"pb(value { set { value: "e" ephemeral: true } })pb");
  ephemeral.set_session_id(9);
  value.ApplyRequest(ephemeral);
  info = value.Describe();
  EXPECT_EQ(info.summary(), "\"e\" (version 6)");
  EXPECT_EQ(Holdings(info.holders()), (std::vector<std::string>{"9 | value | 0"}));
  value.EndSession(9);
  EXPECT_EQ(value.Describe().summary(), "absent");
  EXPECT_EQ(value.Describe().holders_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
