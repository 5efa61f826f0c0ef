// Watches against the real broker: fan-out across stream resets, a broker
// restart that forces a Resync, and a slow consumer that falls out of the
// broker's history.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "atomix/atomix.h"
#include "tests/support/scale.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using StringMap = Map<std::string, std::string>;
using Event = MapEvent<std::string, std::string>;

// Resident set size of a process, in KiB (0 if unreadable).
int64_t RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

// Receives one event or fails the test after `timeout`.
std::optional<Event> Next(Channel<Event>& ch, std::chrono::milliseconds timeout = seconds(20)) {
  auto e = ch.Receive(timeout);
  EXPECT_TRUE(e.has_value()) << "no event within " << timeout.count() << " ms";
  return e;
}

class Watch : public BrokerTest {};

// 1,000 watchers on one map while a writer applies 10,000 updates, and the
// broker resets every stream twice (SIGUSR2) during the run. Every watcher
// sees every one of the writer's revisions exactly once, in order, with the
// value written at it.
TEST_F(Watch, ThousandWatchersSeeEveryRevisionOnceAcrossStreamResets) {
  constexpr int kClients = 4;
  constexpr int kWatchers = Scaled(1000);  // tests/support/scale.h
  constexpr int kUpdates = Scaled(10000);
  constexpr int kKeys = 100;

  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) {
    auto c = Client::Connect(OptionsFor(broker()));
    ASSERT_TRUE(c.ok()) << c.status();
    clients.push_back(*c);
  }
  std::vector<Channel<Event>> channels;
  for (int i = 0; i < kWatchers; ++i) {
    auto m = GetMap<std::string, std::string>(clients[i % kClients], "fanout");
    ASSERT_TRUE(m.ok()) << m.status();
    auto ch = m->Watch();
    ASSERT_TRUE(ch.ok()) << ch.status();
    channels.push_back(*ch);
  }

  // Consumers: each drains a slice of the channels and records revisions.
  constexpr int kConsumers = 4;
  std::vector<std::vector<std::pair<Version, std::string>>> seen(kWatchers);
  std::vector<int> resyncs(kWatchers, 0);
  std::atomic<bool> writer_done{false};
  std::atomic<size_t> target{kUpdates};  // events each watcher must see
  std::vector<std::thread> consumers;
  for (int t = 0; t < kConsumers; ++t) {
    consumers.emplace_back([&, t] {
      const auto deadline = steady_clock::now() + seconds(240);
      while (steady_clock::now() < deadline) {
        bool all_done = writer_done.load();
        bool any = false;
        for (int w = t; w < kWatchers; w += kConsumers) {
          while (auto e = channels[w].TryReceive()) {
            any = true;
            if (e->type == EventType::kResync) {
              ++resyncs[w];
              continue;
            }
            seen[w].emplace_back(e->revision, e->entry ? e->entry->value : std::string());
          }
          if (seen[w].size() < target.load()) all_done = false;
        }
        if (all_done) return;
        if (!any) std::this_thread::sleep_for(milliseconds(2));
      }
    });
  }

  auto writer_map = GetMap<std::string, std::string>(client(), "fanout");
  ASSERT_TRUE(writer_map.ok());
  std::vector<std::pair<Version, std::string>> written;
  written.reserve(kUpdates);
  std::string failure;  // the consumers are joined before anything is asserted
  for (int i = 0; i < kUpdates && failure.empty(); ++i) {
    if ((i == kUpdates / 3 || i == 2 * kUpdates / 3) && ::kill(broker().pid(), SIGUSR2) != 0) {
      failure = "cannot signal the broker";
    }
    std::string value = "v" + std::to_string(i);
    auto v = writer_map->Put("k/" + std::to_string(i % kKeys), value, WithTimeout(seconds(30)));
    if (!v.ok()) {
      failure = "update " + std::to_string(i) + ": " + v.status().ToString();
    } else {
      written.emplace_back(*v, value);
    }
  }
  target = written.size();
  writer_done = true;
  for (auto& c : consumers) c.join();
  ASSERT_TRUE(failure.empty()) << failure;

  for (int w = 0; w < kWatchers; ++w) {
    ASSERT_EQ(resyncs[w], 0) << "watcher " << w << " was resynced";
    ASSERT_EQ(seen[w].size(), written.size()) << "watcher " << w;
    for (size_t i = 0; i < written.size(); ++i) {
      ASSERT_EQ(seen[w][i], written[i]) << "watcher " << w << " event " << i;
    }
  }
}

// A SIGKILLed broker restarted on the memory store has a new identity and
// no history: every watcher gets one Resync (reason kNewBroker) and then
// live events of the new broker. None hangs.
TEST_F(Watch, BrokerRestartDeliversResyncThenLiveEvents) {
  constexpr int kWatchers = 50;
  auto m = GetMap<std::string, std::string>(client(), "restart");
  ASSERT_TRUE(m.ok());
  std::vector<Channel<Event>> channels;
  for (int i = 0; i < kWatchers; ++i) {
    auto ch = m->Watch();
    ASSERT_TRUE(ch.ok()) << ch.status();
    channels.push_back(*ch);
  }
  auto before = m->Put("before", "1");
  ASSERT_TRUE(before.ok());
  for (auto& ch : channels) {
    auto e = Next(ch);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, EventType::kInserted);
    EXPECT_EQ(e->revision, *before);
  }

  broker().Kill(SIGKILL);
  ASSERT_TRUE(broker().Restart().ok());
  auto after = m->Put("after", "2", WithTimeout(seconds(15)));
  ASSERT_TRUE(after.ok()) << after.status();

  // Each watcher: a Resync whose snapshot reflects the new broker (it never
  // holds "before"), then "after" either in the snapshot or as a live event.
  for (int i = 0; i < kWatchers; ++i) {
    auto e = Next(channels[i]);
    ASSERT_TRUE(e) << "watcher " << i;
    ASSERT_EQ(e->type, EventType::kResync) << "watcher " << i;
    EXPECT_EQ(e->reason, ResyncReason::kNewBroker);
    bool has_after = false;
    for (const auto& entry : e->snapshot) {
      EXPECT_NE(entry.key, "before");
      if (entry.key == "after") has_after = true;
    }
    if (!has_after) {
      auto live = Next(channels[i]);
      ASSERT_TRUE(live);
      EXPECT_EQ(live->type, EventType::kInserted);
      EXPECT_EQ(live->revision, *after);
      ASSERT_TRUE(live->entry);
      EXPECT_EQ(live->entry->key, "after");
    } else {
      EXPECT_GE(e->revision, *after);
    }
  }
  // And later changes arrive live on every watcher.
  auto last = m->Put("last", "3");
  ASSERT_TRUE(last.ok());
  for (auto& ch : channels) {
    auto e = Next(ch);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, EventType::kInserted);
    EXPECT_EQ(e->revision, *last);
  }
}

class SlowConsumer : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    ShrinkSanitizerQuarantineOfChildren();
    BrokerProcess::Options o;
    o.args = {"--watch-history", "2000"};
    return o;
  }
};

// A watcher that stops reading holds neither broker nor client memory
// beyond a bound, does not slow a watcher that keeps up, and, once it reads
// again, gets an explicit Resync with the current contents instead of a
// silent gap.
TEST_F(SlowConsumer, FallsBehindIntoAResyncWithBoundedMemory) {
  auto m = GetMap<std::string, std::string>(client(), "slow");
  ASSERT_TRUE(m.ok());
  auto slow = m->Watch(WatchOptions().Capacity(16));
  ASSERT_TRUE(slow.ok()) << slow.status();
  auto fast = m->Watch();
  ASSERT_TRUE(fast.ok());

  const int64_t rss_before = RssKiB(broker().pid());
  const std::string big(64 * 1024, 'x');
  constexpr int kWrites = 3000;  // about 190 MiB written, 1.5x the history
  Version last = 0;
  int fast_seen = 0;
  for (int i = 0; i < kWrites; ++i) {
    auto v = m->Put("k" + std::to_string(i % 10), big + std::to_string(i));
    ASSERT_TRUE(v.ok()) << "write " << i << ": " << v.status();
    last = *v;
    while (auto e = fast->TryReceive()) {
      ASSERT_NE(e->type, EventType::kResync)
          << "the fast watcher fell out of the history after " << fast_seen << " of " << i + 1
          << " writes";
      ++fast_seen;
    }
  }
  // The fast watcher keeps up while the slow one does not read at all.
  while (fast_seen < kWrites) {
    auto e = fast->Receive(seconds(20));
    ASSERT_TRUE(e) << "fast watcher stalled at " << fast_seen;
    ASSERT_NE(e->type, EventType::kResync)
        << "the fast watcher fell out of the history after " << fast_seen << " events";
    ++fast_seen;
  }
  const int64_t rss_after = RssKiB(broker().pid());
  // The history holds at most 2,000 events of 64 KiB (125 MiB); what the
  // slow watcher costs on top is its cursor and at most one message.
  EXPECT_LT(rss_after - rss_before, 200 * 1024) << "broker RSS grew from " << rss_before
                                                 << " KiB to " << rss_after << " KiB";
  EXPECT_LE(slow->size(), slow->capacity() + 1000u);

  // Now read: in-order events, then one Resync (reason kCompacted) that
  // holds the ten current keys at a revision, then nothing older.
  Version prev = 0;
  bool resynced = false;
  while (true) {
    auto e = slow->Receive(seconds(20));
    ASSERT_TRUE(e) << "slow watcher stalled after revision " << prev;
    ASSERT_GT(e->revision, prev) << "last written " << last;
    prev = e->revision;
    if (e->type == EventType::kResync) {
      EXPECT_FALSE(resynced) << "a second resync at " << e->revision;
      resynced = true;
      EXPECT_EQ(e->reason, ResyncReason::kCompacted) << "at " << e->revision;
      EXPECT_EQ(e->snapshot.size(), 10u) << "at " << e->revision;
    }
    if (e->revision == last) break;
  }
  EXPECT_TRUE(resynced) << "the slow watcher read every event up to " << last
                        << " without a resync";
}

}  // namespace
}  // namespace atomix::testing
