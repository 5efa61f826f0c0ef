// MemoryStore: the registry of primitives, the broker-wide revision, type
// binding, and batch order. No network.
#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;

constexpr int kOk = 0;
constexpr int kFailedPrecondition = 9;

class MemoryStoreTest : public ::testing::Test {
 protected:
  // Applies one request and returns its response.
  v1::Response Apply(v1::PrimitiveType type, const std::string& name,
                     const std::string& op, uint64_t id = 0) {
    v1::Request request = MakeRequest(type, name, op, id);
    v1::Response response;
    const v1::Request* requests[] = {&request};
    v1::Response* responses[] = {&response};
    store_.Apply(requests, responses);
    return response;
  }

  MemoryStore store_{Limits{}, [] { return testing::TestNow(); }};
};

TEST_F(MemoryStoreTest, EveryMutationRaisesTheRevisionByExactlyOne) {
  EXPECT_EQ(store_.kind(), "memory");
  EXPECT_EQ(store_.revision(), 0);
  int64_t last = 0;
  auto expect_next = [&](const v1::Response& r) {
    EXPECT_EQ(r.error().code(), kOk) << r.error().message();
    EXPECT_EQ(r.revision(), last + 1);
    last = r.revision();
    EXPECT_EQ(store_.revision(), last);
  };
  expect_next(Apply(v1::COUNTER, "jobs", "counter { add { delta: 1 } }"));
  expect_next(Apply(v1::MAP, "config", R"pb(map { put { key: "a" value: "1" } })pb"));
  expect_next(Apply(v1::SET, "workers", R"pb(set { add { element: "w" } })pb"));
  expect_next(Apply(v1::VALUE, "leader", R"pb(value { set { value: "x" } })pb"));
  v1::Response r = Apply(v1::COUNTER, "jobs", "counter { add { delta: 1 } }");
  expect_next(r);
  // Versions are revisions: comparable across primitives.
  EXPECT_EQ(r.counter().version(), 5);
  EXPECT_EQ(Apply(v1::MAP, "config", R"pb(map { get { key: "a" } })pb")
                .map()
                .entry()
                .version(),
            2);
}

TEST_F(MemoryStoreTest, NoOpsAndReadsDoNotRaiseTheRevision) {
  Apply(v1::SET, "workers", R"pb(set { add { element: "w" } })pb");
  ASSERT_EQ(store_.revision(), 1);
  struct Case {
    v1::PrimitiveType type;
    std::string name;
    std::string op;
  };
  for (const Case& c : std::vector<Case>{
           {v1::SET, "workers", R"pb(set { add { element: "w" } })pb"},
           {v1::SET, "workers", R"pb(set { remove { element: "nope" } })pb"},
           {v1::SET, "workers", "set { size {} }"},
           {v1::SET, "workers", "set { list {} }"},
           {v1::MAP, "config", "map { clear {} }"},
           {v1::MAP, "config", R"pb(map { remove { key: "nope" } })pb"},
           {v1::COUNTER, "jobs", "counter { compare_and_set { expect: 7 } }"},
           {v1::COUNTER, "jobs", "counter { get {} }"},
           {v1::VALUE, "leader", "value { delete {} }"},
           {v1::VALUE, "leader", "open {}"},
       }) {
    v1::Response r = Apply(c.type, c.name, c.op);
    EXPECT_EQ(r.revision(), 1) << c.op;
    EXPECT_EQ(store_.revision(), 1) << c.op;
  }
}

TEST_F(MemoryStoreTest, ReadsOfUnknownNamesSeeAnEmptyPrimitiveAndBindNothing) {
  v1::Response r = Apply(v1::COUNTER, "ghost", "counter { get {} }");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(r.counter().value(), 0);
  r = Apply(v1::MAP, "ghost-map", R"pb(map { remove { key: "k" } })pb");
  EXPECT_EQ(r.error().code(), 5);  // NOT_FOUND, and still not bound
  EXPECT_EQ(store_.TEST_primitive_count(), 0u);
  // Nothing bound, so the name is free for another type.
  r = Apply(v1::SET, "ghost", R"pb(set { add { element: "e" } })pb");
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_EQ(store_.TEST_primitive_count(), 1u);
}

TEST_F(MemoryStoreTest, OpenCreatesOrChecksWithoutARevision) {
  v1::Response r = Apply(v1::MAP, "config", "open {}", 7);
  EXPECT_EQ(r.id(), 7u);
  EXPECT_EQ(r.error().code(), kOk);
  EXPECT_TRUE(r.open().created());
  EXPECT_EQ(r.revision(), 0);
  r = Apply(v1::MAP, "config", "open {}");
  EXPECT_FALSE(r.open().created());
  r = Apply(v1::COUNTER, "config", "open {}");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "\"config\" is a map, not a counter");
  EXPECT_EQ(store_.revision(), 0);
}

TEST_F(MemoryStoreTest, ANameBelongsToOneType) {
  Apply(v1::COUNTER, "jobs", "counter { add { delta: 3 } }");
  v1::Response r = Apply(v1::MAP, "jobs", R"pb(map { get { key: "a" } })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "\"jobs\" is a counter, not a map");
  EXPECT_FALSE(r.error().has_current());
  EXPECT_EQ(r.revision(), 1);
  r = Apply(v1::SET, "jobs", R"pb(set { add { element: "a" } })pb");
  EXPECT_EQ(r.error().message(), "\"jobs\" is a counter, not a set");
  EXPECT_EQ(store_.revision(), 1);
  EXPECT_EQ(Apply(v1::COUNTER, "jobs", "counter { get {} }").counter().value(), 3);
}

TEST_F(MemoryStoreTest, ABatchAppliesInOrder) {
  std::vector<v1::Request> requests = {
      MakeRequest(v1::COUNTER, "c", "counter { add { delta: 2 } }", 1),
      MakeRequest(v1::COUNTER, "c", "counter { get {} }", 2),
      MakeRequest(v1::MAP, "m", R"pb(map { put { key: "k" value: "v" } })pb", 3),
      MakeRequest(v1::COUNTER, "c", "counter { compare_and_set { expect: 2 update: 10 } }", 4),
      MakeRequest(v1::MAP, "m", R"pb(map { get { key: "k" } })pb", 5),
      MakeRequest(v1::MAP, "c", R"pb(map { get { key: "k" } })pb", 6),
  };
  std::vector<v1::Response> responses(requests.size());
  std::vector<const v1::Request*> request_ptrs;
  std::vector<v1::Response*> response_ptrs;
  for (size_t i = 0; i < requests.size(); ++i) {
    request_ptrs.push_back(&requests[i]);
    response_ptrs.push_back(&responses[i]);
  }
  store_.Apply(request_ptrs, response_ptrs);
  for (size_t i = 0; i < responses.size(); ++i) {
    EXPECT_EQ(responses[i].id(), i + 1);
  }
  EXPECT_EQ(responses[0].revision(), 1);
  EXPECT_EQ(responses[1].counter().value(), 2);
  EXPECT_EQ(responses[1].revision(), 1);
  EXPECT_EQ(responses[2].revision(), 2);
  EXPECT_EQ(responses[3].counter().value(), 10);
  EXPECT_EQ(responses[3].revision(), 3);
  EXPECT_EQ(responses[4].map().entry().version(), 2);
  EXPECT_EQ(responses[4].revision(), 3);
  EXPECT_EQ(responses[5].error().code(), kFailedPrecondition);
  EXPECT_EQ(store_.revision(), 3);
}

TEST_F(MemoryStoreTest, ConcurrentBatchesGetUniqueConsecutiveRevisions) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::vector<int64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::Response r = Apply(t % 2 ? v1::COUNTER : v1::SET,
                               t % 2 ? "n" : "s",
                               t % 2 ? "counter { add { delta: 1 } }"
                                     : "set { add { element: \"" +
                                           std::to_string(t * kPerThread + i) +
                                           "\" } }");
        seen[t].push_back(r.revision());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<int64_t> all;
  for (const auto& s : seen) {
    for (size_t i = 1; i < s.size(); ++i) EXPECT_LT(s[i - 1], s[i]);
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], int64_t(i + 1));
  EXPECT_EQ(Apply(v1::COUNTER, "n", "counter { get {} }").counter().value(),
            kThreads / 2 * kPerThread);
}

}  // namespace
}  // namespace atomix::broker
