// CompletionRouter: late answers reach the sink registered under their
// origin, and origins of another router (another broker process, or this
// broker's previous incarnation, as recovered from the log) reach no sink,
// even where the counting part of the origin is the same. No network.
#include <vector>

#include "broker-sim/src/server/completion_router.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

class Collect final : public ResponseSink {
 public:
  void Deliver(std::vector<v1::Response> responses) override {
    for (auto& r : responses) got.push_back(r.id());
  }
  std::vector<uint64_t> got;
};

Completion To(uint64_t origin, uint64_t id) {
  Completion c;
  c.origin = origin;
  c.response.set_id(id);
  return c;
}

TEST(CompletionRouter, AnswersReachTheirOwnSinkOnly) {
  CompletionRouter router(uint64_t{7} << 32);
  Collect a, b;
  const uint64_t oa = router.Register(&a);
  const uint64_t ob = router.Register(&b);
  EXPECT_NE(oa, ob);
  std::vector<Completion> late = {To(ob, 1), To(oa, 2), To(ob, 3)};
  router.Route(late);
  EXPECT_TRUE(late.empty());
  EXPECT_EQ(a.got, std::vector<uint64_t>{2});
  EXPECT_EQ(b.got, (std::vector<uint64_t>{1, 3}));
  router.Unregister(oa);
  late = {To(oa, 4)};
  router.Route(late);
  EXPECT_EQ(a.got, std::vector<uint64_t>{2});
}

TEST(CompletionRouter, OriginsOfAnotherIncarnationReachNoSink) {
  // The previous process registered its first streams; a waiter of one of
  // them was recovered from the log.
  CompletionRouter before(uint64_t{7} << 32);
  Collect gone;
  const uint64_t old_origin = before.Register(&gone);
  // The restarted broker's first stream counts from the same low bits.
  CompletionRouter after(uint64_t{9} << 32);
  Collect fresh;
  const uint64_t new_origin = after.Register(&fresh);
  EXPECT_EQ(old_origin & 0xFFFFFFFF, new_origin & 0xFFFFFFFF);
  std::vector<Completion> late = {To(old_origin, 42)};
  after.Route(late);
  EXPECT_TRUE(fresh.got.empty());
}

TEST(CompletionRouter, EachRouterPicksItsOwnRandomOriginBase) {
  CompletionRouter one, two;
  Collect sink;
  const uint64_t a = one.Register(&sink);
  const uint64_t b = two.Register(&sink);
  EXPECT_NE(a >> 32, 0u);
  EXPECT_NE(b >> 32, 0u);
  EXPECT_NE(a >> 32, b >> 32);  // 1 in 4 billion to fail by chance
}

}  // namespace
}  // namespace atomix::broker
