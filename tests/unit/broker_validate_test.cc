// Broker::Execute: requests are validated before they touch the store; bad
// ones get INVALID_ARGUMENT and change nothing, good ones in the same batch
// still apply in order. No network.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;

constexpr int kOk = 0;
constexpr int kInvalidArgument = 3;

Limits SmallLimits() {
  Limits limits;
  limits.max_value_bytes = 10;
  limits.max_key_bytes = 8;
  return limits;
}

class BrokerValidateTest : public ::testing::Test {
 protected:
  BrokerValidateTest()
      : broker_(std::make_unique<MemoryStore>(SmallLimits()), SmallLimits()) {}

  Broker broker_;
};

struct BadCase {
  v1::Request request;
  std::string message;
};

std::vector<BadCase> BadCases() {
  std::vector<BadCase> cases;
  auto add = [&](v1::Request request, std::string message) {
    cases.push_back({std::move(request), std::move(message)});
  };
  const std::string inc = "counter { add { delta: 1 } }";
  add(MakeRequest(v1::COUNTER, "", inc), "name is empty");
  add(MakeRequest(v1::COUNTER, std::string(300, 'n'), inc),
      "name is 300 bytes; the limit is 256");
  add(MakeRequest(v1::COUNTER, "abc\xff", inc),
      "name is not valid UTF-8 at byte 3");
  add(MakeRequest(v1::COUNTER, "a\xc0\xaf", inc),  // overlong '/'
      "name is not valid UTF-8 at byte 1");
  add(MakeRequest(v1::COUNTER, "\xed\xa0\x80", inc),  // surrogate
      "name is not valid UTF-8 at byte 0");
  add(MakeRequest(v1::COUNTER, "ok\xf4\x90\x80\x80", inc),  // > U+10FFFF
      "name is not valid UTF-8 at byte 2");
  add(MakeRequest(v1::COUNTER, "\xe2\x82", inc),  // truncated
      "name is not valid UTF-8 at byte 0");
  add(MakeRequest(v1::PRIMITIVE_TYPE_UNSPECIFIED, "c", inc),
      "type is unspecified");
  add(MakeRequest(static_cast<v1::PrimitiveType>(99), "c", inc),
      "type 99 is unknown");
  add(MakeRequest(v1::COUNTER, "c", ""), "request has no operation");
  add(MakeRequest(v1::COUNTER, "c", R"pb(map { get { key: "k" } })pb"),
      "type is COUNTER but the operation is for a map");
  add(MakeRequest(v1::MAP, "m", "counter { get {} }"),
      "type is MAP but the operation is for a counter");
  add(MakeRequest(v1::SET, "s", "value { get {} }"),
      "type is SET but the operation is for a value");
  add(MakeRequest(v1::VALUE, "v", "set { size {} }"),
      "type is VALUE but the operation is for a set");
  add(MakeRequest(v1::COUNTER, "c", "counter {}"),
      "counter request has no operation");
  add(MakeRequest(v1::MAP, "m", "map {}"), "map request has no operation");
  add(MakeRequest(v1::SET, "s", "set {}"), "set request has no operation");
  add(MakeRequest(v1::VALUE, "v", "value {}"), "value request has no operation");
  add(MakeRequest(v1::VALUE, "v", R"pb(value { set { value: "01234567890" } })pb"),
      "value is 11 bytes; the limit is 10");
  add(MakeRequest(v1::VALUE, "v", R"pb(value { insert { value: "01234567890" } })pb"),
      "value is 11 bytes; the limit is 10");
  add(MakeRequest(v1::MAP, "m", R"pb(map { put { key: "k" value: "01234567890" } })pb"),
      "value is 11 bytes; the limit is 10");
  add(MakeRequest(v1::MAP, "m", R"pb(map { insert { key: "k" value: "01234567890" } })pb"),
      "value is 11 bytes; the limit is 10");
  add(MakeRequest(v1::MAP, "m", R"pb(map { update { key: "k" value: "01234567890" } })pb"),
      "value is 11 bytes; the limit is 10");
  add(MakeRequest(v1::MAP, "m", R"pb(map { put { key: "123456789" value: "v" } })pb"),
      "key is 9 bytes; the limit is 8");
  add(MakeRequest(v1::MAP, "m", R"pb(map { put { key: "" value: "v" } })pb"),
      "key is empty");
  add(MakeRequest(v1::MAP, "m", R"pb(map { insert { key: "" value: "v" } })pb"),
      "key is empty");
  add(MakeRequest(v1::MAP, "m",
                  R"pb(map { remove_prefix { prefix: "123456789" } })pb"),
      "prefix is 9 bytes; the limit is 8");
  add(MakeRequest(v1::MAP, "m", R"pb(map { get { key: "123456789" } })pb"),
      "key is 9 bytes; the limit is 8");
  add(MakeRequest(v1::MAP, "m", R"pb(map { remove { key: "" } })pb"),
      "key is empty");
  add(MakeRequest(v1::MAP, "m", R"pb(map { contains { key: "" } })pb"),
      "key is empty");
  add(MakeRequest(v1::MAP, "m", R"pb(map { list { prefix: "123456789" } })pb"),
      "prefix is 9 bytes; the limit is 8");
  add(MakeRequest(v1::MAP, "m", R"pb(map { list { start_after: "123456789" } })pb"),
      "start_after is 9 bytes; the limit is 8");
  add(MakeRequest(v1::SET, "s", R"pb(set { add { element: "" } })pb"),
      "element is empty");
  add(MakeRequest(v1::SET, "s", R"pb(set { add { element: "123456789" } })pb"),
      "element is 9 bytes; the limit is 8");
  add(MakeRequest(v1::SET, "s", R"pb(set { remove { element: "" } })pb"),
      "element is empty");
  add(MakeRequest(v1::SET, "s", R"pb(set { contains { element: "123456789" } })pb"),
      "element is 9 bytes; the limit is 8");
  add(MakeRequest(v1::SET, "s", R"pb(set { list { start_after: "123456789" } })pb"),
      "start_after is 9 bytes; the limit is 8");
  v1::Request negative = MakeRequest(v1::COUNTER, "c", inc);
  negative.set_timeout_ms(-5);
  add(negative, "timeout_ms is -5; it must not be negative");
  // Sessions, locks, elections, and the options writes may carry.
  add(testing::ParseRequest("session { open { ttl_ms: 500 } }"),
      "ttl_ms is 500; the minimum is 1000 (0 means the default, 10000)");
  add(testing::ParseRequest("session { keep_alive {} }"),
      "session keep_alive needs a session");
  add(testing::ParseRequest("session { close {} }"),
      "session close needs a session");
  add(testing::ParseRequest("session {}"), "session request has no operation");
  add(MakeRequest(v1::LOCK, "l", "lock { acquire {} }"),
      "lock acquire needs a session");
  add(MakeRequest(v1::LOCK, "l", "lock { release {} }"),
      "lock release without if_version needs a session");
  add(MakeRequest(v1::LOCK, "l", "lock {}"), "lock request has no operation");
  add(MakeRequest(v1::LOCK, "l", "election { get_term {} }"),
      "type is LOCK but the operation is for an election");
  add(MakeRequest(v1::ELECTION, "e", R"pb(election { enter { candidate_id: "x" } })pb"),
      "election enter needs a session");
  add(MakeRequest(v1::ELECTION, "e", R"pb(election { evict { candidate_id: "123456789" } })pb"),
      "candidate_id is 9 bytes; the limit is 8");
  add(MakeRequest(v1::MAP, "m", R"pb(map { put { key: "k" value: "v" ephemeral: true } })pb"),
      "an ephemeral write needs a session");
  add(MakeRequest(v1::MAP, "m", R"pb(map { insert { key: "k" value: "v" ttl_ms: -2 } })pb"),
      "ttl_ms is -2; it must not be negative");
  add(MakeRequest(v1::VALUE, "v", R"pb(value { set { value: "v" ttl_ms: -2 } })pb"),
      "ttl_ms is -2; it must not be negative");
  add(MakeRequest(v1::MAP, "m", R"pb(map { remove { key: "k" if_fence { lock: "l" } } })pb"),
      "fence version is 0; it must be positive");
  add(MakeRequest(v1::VALUE, "v", R"pb(value { delete { if_fence { lock: "\xff" version: 1 } } })pb"),
      "fence lock name is not valid UTF-8 at byte 0");
  return cases;
}

// Each bad request sits between two good ones in one batch.
TEST_F(BrokerValidateTest, BadRequestsAreRejectedAndTouchNothing) {
  uint64_t id = 100;
  int64_t revision = 0;
  for (BadCase& bad : BadCases()) {
    SCOPED_TRACE(bad.message);
    v1::RequestBatch batch;
    *batch.add_requests() =
        MakeRequest(v1::COUNTER, "good", "counter { add { delta: 1 } }", ++id);
    bad.request.set_id(++id);
    *batch.add_requests() = bad.request;
    *batch.add_requests() =
        MakeRequest(v1::COUNTER, "good", "counter { add { delta: 1 } }", ++id);
    v1::ResponseBatch out;
    broker_.Execute(batch, out);
    ASSERT_EQ(out.responses_size(), 3);
    EXPECT_EQ(out.responses(0).id(), id - 2);
    EXPECT_EQ(out.responses(1).id(), id - 1);
    EXPECT_EQ(out.responses(2).id(), id);

    EXPECT_EQ(out.responses(0).error().code(), kOk);
    EXPECT_EQ(out.responses(0).revision(), revision + 1);
    EXPECT_EQ(out.responses(0).counter().value(), revision + 1);

    EXPECT_EQ(out.responses(1).error().code(), kInvalidArgument);
    EXPECT_EQ(out.responses(1).error().message(), bad.message);
    EXPECT_FALSE(out.responses(1).error().has_current());
    EXPECT_EQ(out.responses(1).result_case(), v1::Response::RESULT_NOT_SET);

    EXPECT_EQ(out.responses(2).error().code(), kOk);
    EXPECT_EQ(out.responses(2).revision(), revision + 2);
    revision += 2;
    EXPECT_EQ(broker_.store().revision(), revision);
  }
  // Nothing but "good" was ever bound: the bad requests' names are all free.
  auto& store = static_cast<MemoryStore&>(broker_.store());
  EXPECT_EQ(store.TEST_primitive_count(), 1u);
}

TEST_F(BrokerValidateTest, GoodEdgeCasesAreAccepted) {
  std::vector<v1::Request> good = {
      MakeRequest(v1::COUNTER, std::string(256, 'n'), "counter { get {} }"),
      MakeRequest(v1::COUNTER, "ジョブ/€/😀", "counter { get {} }"),
      MakeRequest(v1::VALUE, "v", R"pb(value { set { value: "0123456789" } })pb"),
      MakeRequest(v1::VALUE, "v2", R"pb(value { set { value: "" } })pb"),
      MakeRequest(v1::MAP, "m", R"pb(map { put { key: "12345678" value: "" } })pb"),
      MakeRequest(v1::MAP, "m", "map { list {} }"),
      MakeRequest(v1::MAP, "m", "map { remove_prefix {} }"),
      MakeRequest(v1::MAP, "m",
                  R"pb(map { remove_prefix { prefix: "12345678" } })pb"),
      MakeRequest(v1::SET, "s", R"pb(set { add { element: "\x00\xff" } })pb"),
      MakeRequest(v1::MAP, "o", "open {}"),
  };
  for (const v1::Request& request : good) {
    v1::Response r = broker_.Execute(request);
    EXPECT_EQ(r.error().code(), kOk) << r.error().message();
  }
}

TEST_F(BrokerValidateTest, SingleExecuteEchoesIdOnErrors) {
  v1::Request request = MakeRequest(v1::COUNTER, "", "counter { get {} }", 42);
  v1::Response r = broker_.Execute(request);
  EXPECT_EQ(r.id(), 42u);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "name is empty");
}

TEST_F(BrokerValidateTest, InfoDescribesTheBroker) {
  broker_.Execute(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }"));
  v1::BrokerInfo info = broker_.Info();
  EXPECT_EQ(info.broker_id().size(), 32u);
  EXPECT_EQ(info.broker_id().find_first_not_of("0123456789abcdef"),
            std::string::npos);
  EXPECT_EQ(info.revision(), 1);
  EXPECT_EQ(info.max_value_bytes(), 10);
  EXPECT_EQ(info.max_key_bytes(), 8);
  EXPECT_EQ(info.store(), "memory");
  EXPECT_FALSE(info.version().empty());

  Broker other(std::make_unique<MemoryStore>(Limits{}), Limits{});
  EXPECT_NE(other.Info().broker_id(), info.broker_id());
}

// The primitives whose watches take key filters, as the validator names them
// (every keyed primitive registers key_filters).
std::string KeyedWatches() {
  std::vector<std::string> names;
  for (const PrimitiveSpec* p : Primitives()) {
    if (p->key_filters) names.emplace_back(p->name);
  }
  return absl::StrJoin(names, ", ");
}

v1::WatchRequest WatchOf(v1::PrimitiveType type, const std::string& name,
                         const std::string& text = "") {
  v1::WatchRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &request));
  request.set_type(type);
  request.set_name(name);
  return request;
}

TEST(BrokerValidateWatch, BadWatchesNameTheProblem) {
  const Limits limits = SmallLimits();
  const std::vector<std::pair<v1::WatchRequest, std::string>> bad = {
      {WatchOf(v1::MAP, ""), "name is empty"},
      {WatchOf(v1::MAP, std::string(257, 'n')),
       "name is 257 bytes; the limit is 256"},
      {WatchOf(v1::MAP, std::string("\xc3", 1)),
       "name is not valid UTF-8 at byte 0"},
      {WatchOf(v1::PRIMITIVE_TYPE_UNSPECIFIED, "m"), "type is unspecified"},
      {WatchOf(static_cast<v1::PrimitiveType>(42), "m"), "type 42 is unknown"},
      {WatchOf(v1::VALUE, "v", R"pb(key: "k")pb"),
       "key filters only watches of " + KeyedWatches() + "; type is VALUE"},
      {WatchOf(v1::LOCK, "l", R"pb(prefix: "p")pb"),
       "prefix filters only watches of " + KeyedWatches() + "; type is LOCK"},
      {WatchOf(v1::MAP, "m", R"pb(key: "k" prefix: "p")pb"),
       "key and prefix are mutually exclusive"},
      {WatchOf(v1::MAP, "m", R"pb(key: "")pb"), "key is empty"},
      {WatchOf(v1::MAP, "m", R"pb(key: "123456789")pb"),
       "key is 9 bytes; the limit is 8"},
      {WatchOf(v1::MAP, "m", R"pb(prefix: "123456789")pb"),
       "prefix is 9 bytes; the limit is 8"},
      {WatchOf(v1::MAP, "m", "start_revision: -3"),
       "start_revision is -3; it must not be negative"},
  };
  for (const auto& [request, message] : bad) {
    absl::Status status = ValidateWatchRequest(request, limits);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(status.message(), message);
  }
}

TEST(BrokerValidateWatch, GoodWatchesPass) {
  const Limits limits = SmallLimits();
  for (const v1::WatchRequest& request :
       {WatchOf(v1::COUNTER, "c"), WatchOf(v1::MAP, "m", R"pb(key: "12345678")pb"),
        WatchOf(v1::MAP, "m", R"pb(prefix: "12345678")pb"),
        WatchOf(v1::ELECTION, "e", R"pb(start_revision: 7 broker_id: "x")pb"),
        WatchOf(v1::SET, "s", "replay: true")}) {
    EXPECT_TRUE(ValidateWatchRequest(request, limits).ok())
        << request.ShortDebugString();
  }
}

TEST(BrokerUtf8, FindInvalidUtf8) {
  constexpr size_t kValid = absl::string_view::npos;
  EXPECT_EQ(FindInvalidUtf8(""), kValid);
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), kValid);
  EXPECT_EQ(FindInvalidUtf8("\xc2\x80 \xdf\xbf"), kValid);       // 2 bytes
  EXPECT_EQ(FindInvalidUtf8("\xe0\xa0\x80\xef\xbf\xbf"), kValid);  // 3 bytes
  EXPECT_EQ(FindInvalidUtf8("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), kValid);
  EXPECT_EQ(FindInvalidUtf8(absl::string_view("a\0b", 3)), kValid);
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);              // lone continuation
  EXPECT_EQ(FindInvalidUtf8("ab\xc1\x81"), 2u);        // overlong
  EXPECT_EQ(FindInvalidUtf8("\xe0\x80\x80"), 0u);      // overlong
  EXPECT_EQ(FindInvalidUtf8("\xf0\x80\x80\x80"), 0u);  // overlong
  EXPECT_EQ(FindInvalidUtf8("x\xed\xbf\xbf"), 1u);     // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf5\x80\x80\x80"), 0u);  // beyond U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xc3"), 0u);              // truncated
  EXPECT_EQ(FindInvalidUtf8("\xc3\xa9\xf0\x9f\x98"), 2u);
}

}  // namespace
}  // namespace atomix::broker
