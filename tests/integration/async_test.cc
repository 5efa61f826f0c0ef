// The asynchronous API through the public SDK against a real atomix-broker
// process: many calls in flight from one thread, exactly-once increments,
// continuations and coroutines, typed decoding, and lock acquires that wait,
// time out and are given back.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "atomix/atomix.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class AsyncIntegration : public BrokerTest {
 protected:
  // Lock "l" held by another client, and this client's handle to it.
  struct Contended {
    std::optional<Client> holder_client;
    std::optional<Lock> held;
    std::optional<Lock> mine;
    Fence first;
  };
  Contended HoldLock() {
    Contended c;
    auto holder = Client::Connect(OptionsFor(broker()));
    EXPECT_TRUE(holder.ok()) << holder.status();
    c.holder_client.emplace(*holder);
    auto held = GetLock(*c.holder_client, "l");
    auto mine = GetLock(client(), "l");
    EXPECT_TRUE(held.ok() && mine.ok());
    c.held.emplace(*held);
    c.mine.emplace(*mine);
    auto first = c.held->Acquire();
    EXPECT_TRUE(first.ok()) << first.status();
    c.first = *first;
    return c;
  }
};

TEST_F(AsyncIntegration, ThousandsInFlightFromOneThreadEachApplyOnce) {
  auto c = GetCounter(client(), "jobs");
  ASSERT_TRUE(c.ok()) << c.status();
  constexpr int kCalls = 4096;
  std::vector<Future<Versioned<int64_t>>> futures;
  futures.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) futures.push_back(c->IncrementAsync());
  std::set<int64_t> values;
  std::set<Version> versions;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status();
    values.insert(r->value);
    versions.insert(r->version);
  }
  // Every increment applied exactly once, each at its own revision.
  EXPECT_EQ(values.size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(*values.begin(), 1);
  EXPECT_EQ(*values.rbegin(), kCalls);
  EXPECT_EQ(versions.size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(*c->Get(), kCalls);
}

TEST_F(AsyncIntegration, ContinuationsChainCalls) {
  auto c = GetCounter(client(), "chain");
  ASSERT_TRUE(c.ok()) << c.status();
  Counter counter = *c;
  Future<int64_t> f = counter.SetAsync(10)
                          .then([counter](absl::StatusOr<Versioned<int64_t>> set) {
                            // A blocking call inside a continuation works too.
                            return counter.Increment(5);
                          })
                          .then([](absl::StatusOr<Versioned<int64_t>> inc)
                                    -> absl::StatusOr<int64_t> {
                            if (!inc.ok()) return inc.status();
                            return inc->value;
                          });
  auto v = f.get();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 15);
}

Future<int64_t> MoveBetween(Counter from, Counter to, int64_t n) {
  auto taken = co_await from.DecrementAsync(n);
  if (!taken.ok()) co_return taken.status();
  auto given = co_await to.IncrementAsync(n);
  if (!given.ok()) co_return given.status();
  co_return given->value;
}

TEST_F(AsyncIntegration, CoroutinesAwaitCalls) {
  auto a = GetCounter(client(), "a");
  auto b = GetCounter(client(), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Set(100).ok());
  std::vector<Future<int64_t>> moves;
  for (int i = 0; i < 10; ++i) moves.push_back(MoveBetween(*a, *b, 7));
  for (auto& m : moves) ASSERT_TRUE(m.get().ok());
  EXPECT_EQ(*a->Get(), 30);
  EXPECT_EQ(*b->Get(), 70);
}

TEST_F(AsyncIntegration, TypedMapDecodesAndReportsErrors) {
  auto m = GetMap<std::string, int64_t>(client(), "scores");
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<Future<Version>> puts;
  for (int i = 0; i < 100; ++i) puts.push_back(m->PutAsync("k" + std::to_string(i), i));
  Version last = 0;
  for (auto& p : puts) {
    auto v = p.get();
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_GT(*v, last);  // One stream, written in order: revisions in order.
    last = *v;
  }
  auto got = m->GetAsync("k42").get();
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->value, 42);
  EXPECT_FALSE(m->GetAsync("absent").get()->has_value());
  EXPECT_EQ(*m->SizeAsync().get(), 100);
  auto insert = m->InsertAsync("k1", 5).get();
  EXPECT_TRUE(absl::IsAlreadyExists(insert.status())) << insert.status();
  // Bad options fail before anything is sent, with nothing applied; their
  // continuations still run on the callback threads.
  auto bad = m->InsertAsync("k1000", 1, IfVersion(3)).get();
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  auto where = m->InsertAsync("k1000", 1, IfVersion(3))
                   .then([](absl::StatusOr<Version> v) {
                     char name[32] = {};
                     pthread_getname_np(pthread_self(), name, sizeof(name));
                     return absl::IsInvalidArgument(v.status()) ? std::string(name)
                                                                : std::string("wrong status");
                   })
                   .get();
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(*where, "atomix-callback");
  EXPECT_FALSE(*m->ContainsAsync("k1000").get());
}

TEST_F(AsyncIntegration, LockAcquireWaitsForTheRelease) {
  Contended c = HoldLock();
  ASSERT_FALSE(HasFailure());
  Future<Fence> waiting = c.mine->AcquireAsync(WithTimeout(seconds(30)));
  EXPECT_EQ(waiting.wait_for(milliseconds(100)), std::future_status::timeout);
  ASSERT_TRUE(c.held->ReleaseAsync(IfVersion(c.first)).get().ok());
  auto second = waiting.get();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(second->version, c.first.version);
  EXPECT_TRUE(*c.mine->IsLockedAsync(WithVersion(second->version)).get());
}

TEST_F(AsyncIntegration, AnAcquireThatTimesOutLeavesTheLockFree) {
  Contended c = HoldLock();
  ASSERT_FALSE(HasFailure());
  auto timed_out = c.mine->AcquireAsync(WithTimeout(milliseconds(200))).get();
  EXPECT_TRUE(absl::IsDeadlineExceeded(timed_out.status())) << timed_out.status();
  ASSERT_TRUE(c.held->Release().ok());
  // The withdrawn waiter was not granted the lock: it is free.
  auto free_now = c.mine->TryAcquireAsync().get();
  ASSERT_TRUE(free_now.ok()) << free_now.status();
  EXPECT_TRUE(free_now->has_value());
}

TEST_F(AsyncIntegration, ElectionValueAndSetHaveAsyncForms) {
  auto e = GetElection(client(), "e");
  ASSERT_TRUE(e.ok());
  auto term = e->EnterAsync().get();
  ASSERT_TRUE(term.ok()) << term.status();
  EXPECT_EQ(term->leader, e->ID());
  EXPECT_EQ(e->GetTermAsync().get()->term, term->term);

  auto v = GetValue<std::string>(client(), "v");
  ASSERT_TRUE(v.ok());
  auto w = v->InsertAsync("x").get();
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*v->GetAsync().get())->value, "x");
  EXPECT_TRUE(absl::IsFailedPrecondition(v->SetAsync("y", IfVersion(*w + 100)).get().status()));

  auto s = GetSet<std::string>(client(), "s");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->AddAsync("a").get()->changed);
  EXPECT_FALSE(s->AddAsync("a").get()->changed);
  EXPECT_TRUE(*s->ContainsAsync("a").get());
  EXPECT_EQ(*s->SizeAsync().get(), 1);
}

}  // namespace
}  // namespace atomix::testing
