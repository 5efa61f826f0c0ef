// WorkQueue safety under faults: consumers in separate processes drain a
// queue while the parent keeps pushing, and one more process, the victim,
// leases items and is SIGKILLed while it holds them. Checked:
// - no item is ever held by two leases at once: HoldChecker over the
//   consumers' observed hold intervals (CLOCK_MONOTONIC, one machine), the
//   victim's holds ending no earlier than its session could expire, and
//   the broker's own account (its watch events, in revision order);
// - no item is lost: DeliveryLedger (every pushed id acked exactly once,
//   nothing acked that was not pushed), redeliveries counted;
// - the victim's items stay leased until its session TTL and come back
//   after it, never before, all in one step, and are delivered again with
//   deliveries > 1.
// Each checker is then shown a planted violation in the same data.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/delivery_ledger.h"
#include "tests/support/hold_checker.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kChildVariable[] = "ATOMIX_WORK_QUEUE_CHILD";
constexpr char kQueue[] = "wq-safety";
constexpr int kConsumers = 3;
constexpr int kBatch = 100;
constexpr int kBatchesBefore = 3;  // pushed before the children start
constexpr int kBatchesAfter = 3;   // pushed after the kill
constexpr int kVictimHolds = 3;
constexpr milliseconds kVictimTtl(2000);
// A session expires kVictimTtl after its last request; the client sends a
// keep-alive every TTL / 3, so the victim's last one came at most that long
// before the kill.
constexpr milliseconds kKeepAlive(kVictimTtl / 3);

void Line(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

// ---- The child process ------------------------------------------------------

// Runs only as a child: ATOMIX_WORK_QUEUE_CHILD = "mode;endpoint;stop file".
// "hold": takes kVictimHolds items, prints them and "holding", and waits to
// be killed. "consume": takes, writes a fenced result, acks, until the
// queue is empty and the stop file exists. Lines:
//   take ID FENCE DELIVERIES TAKEN_NS
//   ack ID FENCE END_NS PUT_CODE ACK_CODE
TEST(WorkQueueChild, Run) {
  const char* spec = std::getenv(kChildVariable);
  if (spec == nullptr) GTEST_SKIP() << "runs as a child of WorkQueueSafety";
  std::vector<std::string> parts = absl::StrSplit(spec, ';');
  ASSERT_EQ(parts.size(), 3u) << spec;
  const bool hold = parts[0] == "hold";
  ClientOptions options;
  options.endpoints = {parts[1]};
  options.connect_timeout = seconds(10);
  options.default_call_timeout = seconds(10);
  options.session_ttl = hold ? kVictimTtl : milliseconds(10000);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto q = GetWorkQueue<std::string>(*client, kQueue);
  ASSERT_TRUE(q.ok()) << q.status();
  auto results = GetMap<std::string, std::string>(*client, "wq-results");
  ASSERT_TRUE(results.ok()) << results.status();
  Line(absl::StrCat("ready ", client->session_id()));

  if (hold) {
    std::vector<LeasedItem<std::string>> held;
    for (int i = 0; i < kVictimHolds; ++i) {
      auto lease = q->Take(WithTimeout(seconds(30)));
      ASSERT_TRUE(lease.ok()) << lease.status();
      Line(absl::StrCat("take ", lease->id(), " ", lease->fence().version, " ", lease->deliveries(),
                        " ", NowNanos()));
      held.push_back(*std::move(lease));
    }
    Line("holding");
    std::this_thread::sleep_for(seconds(120));
    std::_Exit(3);  // never released: the parent kills this process first
  }

  const std::string stop = parts[2];
  for (;;) {
    auto lease = q->Take(WithTimeout(milliseconds(500)));
    if (!lease.ok()) {
      ASSERT_EQ(lease.status().code(), absl::StatusCode::kDeadlineExceeded) << lease.status();
      if (access(stop.c_str(), F_OK) == 0) break;
      continue;
    }
    Line(absl::StrCat("take ", lease->id(), " ", lease->fence().version, " ", lease->deliveries(),
                      " ", NowNanos()));
    auto put = results->Put(absl::StrCat(lease->id()), lease->value(), IfFence(*lease));
    const int64_t end = NowNanos();
    absl::Status acked = lease->Ack();
    Line(absl::StrCat("ack ", lease->id(), " ", lease->fence().version, " ", end, " ",
                      static_cast<int>(put.status().code()), " ", static_cast<int>(acked.code())));
  }
  Line("done");
}

// ---- Parsing the children's logs --------------------------------------------

struct Take {
  int64_t id = 0, fence = 0, deliveries = 0, taken_ns = 0;
};
struct Ack {
  int64_t id = 0, fence = 0, end_ns = 0;
  int put_code = -1, ack_code = -1;
};
struct ChildLog {
  std::vector<Take> takes;
  std::vector<Ack> acks;
  bool holding = false;
  bool done = false;
};

ChildLog ParseLog(const std::string& text) {
  ChildLog log;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f[0] == "holding") log.holding = true;
    if (f[0] == "done") log.done = true;
    if (f[0] == "take" && f.size() == 5) {
      Take t;
      if (absl::SimpleAtoi(f[1], &t.id) && absl::SimpleAtoi(f[2], &t.fence) &&
          absl::SimpleAtoi(f[3], &t.deliveries) && absl::SimpleAtoi(f[4], &t.taken_ns)) {
        log.takes.push_back(t);
      }
    }
    if (f[0] == "ack" && f.size() == 6) {
      Ack a;
      if (absl::SimpleAtoi(f[1], &a.id) && absl::SimpleAtoi(f[2], &a.fence) &&
          absl::SimpleAtoi(f[3], &a.end_ns) && absl::SimpleAtoi(f[4], &a.put_code) &&
          absl::SimpleAtoi(f[5], &a.ack_code)) {
        log.acks.push_back(a);
      }
    }
  }
  return log;
}

// ---- The broker's own account -----------------------------------------------

// Replays watch events in order: an item is leased by at most one lease at
// a time (a lease event only for a queued item, a return or an ack only for
// a leased one), pushed once, and acked once. The first violation, or
// nullopt. `max_leased` gets the most items leased at once.
std::optional<std::string> CheckBrokerAccount(const std::vector<WorkQueueEvent>& events,
                                              int64_t* max_leased = nullptr) {
  enum State { kQueued, kLeased, kAcked };
  std::map<int64_t, std::pair<State, int64_t>> items;  // id -> (state, fence)
  int64_t most = 0;
  for (const WorkQueueEvent& e : events) {
    if (e.id == 0) continue;  // a replay snapshot's counts
    most = std::max(most, e.leased);
    const std::string at = absl::StrCat("item ", e.id, " at revision ", e.revision, ": ");
    auto it = items.find(e.id);
    switch (e.type) {
      case EventType::kInserted:
        if (it != items.end()) return at + "pushed twice";
        items[e.id] = {kQueued, 0};
        break;
      case EventType::kUpdated:
        if (it == items.end() || it->second.first == kAcked) return at + "changed while not queued";
        if (e.fence != 0) {
          if (it->second.first == kLeased) {
            return absl::StrCat(at, "leased at fence ", e.fence, " while lease ", it->second.second,
                                " held it");
          }
          it->second = {kLeased, e.fence};
        } else {
          if (it->second.first != kLeased) return at + "returned while queued";
          it->second = {kQueued, 0};
        }
        break;
      case EventType::kRemoved:
        if (it == items.end() || it->second.first != kLeased) return at + "acked while not leased";
        it->second = {kAcked, 0};
        break;
      default:
        return at + "unexpected event";
    }
  }
  if (max_leased != nullptr) *max_leased = most;
  return std::nullopt;
}

// ---- The parent -------------------------------------------------------------

class WorkQueueSafety : public BrokerTest {};

TEST_F(WorkQueueSafety, ConsumersInProcessesWithOneSigkilledMidLease) {
  const std::string dir = MakeTempDir("work-queue-safety");
  struct RemoveDir {
    const std::string& dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove_dir{dir};
  const std::string stop = dir + "/stop";

  auto q = GetWorkQueue<std::string>(client(), kQueue);
  ASSERT_TRUE(q.ok()) << q.status();
  auto probe = GetMap<std::string, std::string>(client(), "wq-probe");
  ASSERT_TRUE(probe.ok());

  // The broker's account, drained as it comes.
  WatchOptions watch_options = WithReplay();
  watch_options.capacity = 1 << 15;
  auto watch = q->Watch(watch_options);
  ASSERT_TRUE(watch.ok()) << watch.status();
  std::mutex events_mu;
  std::vector<WorkQueueEvent> events;
  std::thread drain([&, ch = *watch]() mutable {
    while (auto e = ch.Receive()) {
      std::lock_guard<std::mutex> l(events_mu);
      events.push_back(*e);
    }
  });
  struct Closer {
    Channel<WorkQueueEvent> ch;
    std::thread& t;
    ~Closer() {
      ch.Close();
      if (t.joinable()) t.join();
    }
  } closer{*watch, drain};

  DeliveryLedger ledger;
  int64_t next_value = 0;
  auto push_batches = [&](int batches) {
    for (int b = 0; b < batches; ++b) {
      std::vector<std::string> values;
      for (int i = 0; i < kBatch; ++i) values.push_back(absl::StrCat("v", next_value++));
      auto ids = q->PushAll(values);
      ASSERT_TRUE(ids.ok()) << ids.status();
      for (int64_t id : *ids) ledger.Pushed(id);
    }
  };
  push_batches(kBatchesBefore);
  if (HasFatalFailure()) return;

  // The victim and the consumers start together and contend for the head.
  std::vector<pid_t> pids;
  std::vector<std::string> logs;
  for (int c = 0; c <= kConsumers; ++c) {
    logs.push_back(absl::StrCat(dir, "/child-", c, ".log"));
    auto pid = SpawnTestChild({absl::StrCat(kChildVariable, "=", c == 0 ? "hold" : "consume", ";",
                                            broker().endpoint(), ";", stop)},
                              "WorkQueueChild.Run", logs.back());
    ASSERT_TRUE(pid.ok()) << pid.status();
    pids.push_back(*pid);
  }
  ASSERT_TRUE(WaitUntil([&] { return ParseLog(ReadFile(logs[0])).holding; }, seconds(60)))
      << ReadFile(logs[0]);
  KillAndReap(pids[0], SIGKILL);
  const int64_t kill_ns = NowNanos();
  // The earliest moment the broker may release the victim's items.
  const int64_t lower_ns = kill_ns + std::chrono::nanoseconds(kVictimTtl - kKeepAlive).count();
  const ChildLog victim = ParseLog(ReadFile(logs[0]));
  ASSERT_EQ(victim.takes.size(), static_cast<size_t>(kVictimHolds));

  // Still leased before the TTL: a write fenced by each lease applies. (Only
  // meaningful while this check ends before the lower bound.)
  int held_checks = 0;
  for (const Take& t : victim.takes) {
    auto put = probe->Put(absl::StrCat(t.id), "victim", IfFence(kQueue, Fence{t.fence}));
    if (NowNanos() < lower_ns) {
      EXPECT_TRUE(put.ok()) << "victim's lease of item " << t.id
                            << " ended before its TTL: " << put.status();
      ++held_checks;
    }
  }
  push_batches(kBatchesAfter);  // more contention while the victim's items are out
  if (HasFatalFailure()) return;
  // And again just before the lower bound.
  std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<int64_t>(
      0, lower_ns - NowNanos() - milliseconds(150) / std::chrono::nanoseconds(1))));
  for (const Take& t : victim.takes) {
    auto put = probe->Put(absl::StrCat(t.id), "victim", IfFence(kQueue, Fence{t.fence}));
    if (NowNanos() < lower_ns) {
      EXPECT_TRUE(put.ok()) << "victim's lease of item " << t.id
                            << " ended before its TTL: " << put.status();
      ++held_checks;
    }
  }

  // Released after the TTL: the fenced write is refused from then on.
  int64_t released_seen_ns = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto put = probe->Put("last", "victim", IfFence(kQueue, Fence{victim.takes.back().fence}));
        if (put.ok()) return false;
        released_seen_ns = NowNanos();
        return true;
      },
      seconds(20)));
  EXPECT_GE(released_seen_ns, lower_ns) << "released before the victim's TTL could pass";

  // Everything is acked; then the consumers stop.
  ASSERT_TRUE(WaitUntil(
      [&] { return q->Size().value_or(-1) == 0 && q->Leased().value_or(-1) == 0; }, seconds(30)))
      << "queued " << q->Size().value_or(-1) << ", leased " << q->Leased().value_or(-1);
  std::ofstream(stop).put('\n');
  std::vector<ChildLog> consumers;
  for (int c = 1; c <= kConsumers; ++c) {
    int status = 0;
    ASSERT_TRUE(
        WaitUntil([&] { return waitpid(pids[c], &status, WNOHANG) == pids[c]; }, seconds(30)))
        << ReadFile(logs[c]);
    ASSERT_EQ(ExitCode(status), 0) << ReadFile(logs[c]);
    consumers.push_back(ParseLog(ReadFile(logs[c])));
    ASSERT_TRUE(consumers.back().done) << ReadFile(logs[c]);
  }

  // Observed holds: each consumer take up to the moment it sent its ack; the
  // victim's up to the earliest moment its session could expire.
  HoldChecker checker;
  for (const Take& t : victim.takes) {
    ledger.Delivered(t.id, t.deliveries);
    checker.Add({.resource = absl::StrCat(t.id),
                 .holder = "victim",
                 .start_ns = t.taken_ns,
                 .end_ns = lower_ns,
                 .exclusive = true,
                 .fence = t.fence});
  }
  std::set<int64_t> victim_ids;
  std::map<int64_t, int64_t> victim_fence;
  for (const Take& t : victim.takes) {
    victim_ids.insert(t.id);
    victim_fence[t.id] = t.fence;
  }
  int redelivered_victim_items = 0;
  int64_t holds = 0;
  for (size_t c = 0; c < consumers.size(); ++c) {
    std::map<std::pair<int64_t, int64_t>, Ack> acks;  // (id, fence)
    for (const Ack& a : consumers[c].acks) acks[{a.id, a.fence}] = a;
    for (const Take& t : consumers[c].takes) {
      ledger.Delivered(t.id, t.deliveries);
      auto a = acks.find({t.id, t.fence});
      ASSERT_NE(a, acks.end()) << "consumer " << c << " took item " << t.id << " and never acked";
      EXPECT_EQ(a->second.put_code, 0) << "fenced write of item " << t.id << " refused";
      EXPECT_EQ(a->second.ack_code, 0) << "ack of item " << t.id << " refused";
      if (a->second.ack_code == 0) ledger.Acked(t.id);
      checker.Add({.resource = absl::StrCat(t.id),
                   .holder = absl::StrCat("consumer ", c),
                   .start_ns = t.taken_ns,
                   .end_ns = a->second.end_ns,
                   .exclusive = true,
                   .fence = t.fence});
      ++holds;
      if (victim_ids.contains(t.id)) {
        ++redelivered_victim_items;
        EXPECT_GE(t.deliveries, 2) << "item " << t.id;
        EXPECT_GE(t.taken_ns, lower_ns) << "item " << t.id << " came back before the TTL";
      }
    }
  }
  EXPECT_EQ(checker.Check(), std::nullopt);
  EXPECT_EQ(ledger.Check(), std::nullopt);
  EXPECT_EQ(redelivered_victim_items, kVictimHolds);
  EXPECT_EQ(ledger.redeliveries(), kVictimHolds);
  EXPECT_EQ(ledger.pushed(), static_cast<size_t>((kBatchesBefore + kBatchesAfter) * kBatch));

  // The broker's account agrees, and the victim's items came back in one step.
  const size_t want_events = ledger.pushed() * 3 + 2 * static_cast<size_t>(kVictimHolds) + 1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard<std::mutex> l(events_mu);
        return events.size() >= want_events;
      },
      seconds(10)));
  std::vector<WorkQueueEvent> account;
  {
    std::lock_guard<std::mutex> l(events_mu);
    account = events;
  }
  int64_t max_leased = 0;
  EXPECT_EQ(CheckBrokerAccount(account, &max_leased), std::nullopt);
  // (Each victim item's first return; a later one may be a give-back.)
  std::map<int64_t, Version> first_return;
  for (const WorkQueueEvent& e : account) {
    if (e.type == EventType::kUpdated && e.fence == 0 && victim_fence.contains(e.id) &&
        e.revision > victim_fence[e.id]) {
      first_return.emplace(e.id, e.revision);
    }
  }
  EXPECT_EQ(first_return.size(), victim_ids.size());
  std::set<Version> return_revisions;
  for (const auto& [id, revision] : first_return) return_revisions.insert(revision);
  EXPECT_EQ(return_revisions.size(), 1u) << "the victim's items came back in several steps";
  std::printf(
      "%zu items, %lld consumer holds + %d victim holds checked, %lld redeliveries, at most "
      "%lld leased at once, %zu broker events; released %.3f s after the kill (TTL %lld ms)\n",
      ledger.pushed(), static_cast<long long>(holds), kVictimHolds,
      static_cast<long long>(ledger.redeliveries()), static_cast<long long>(max_leased),
      account.size(), (released_seen_ns - kill_ns) / 1e9,
      static_cast<long long>(kVictimTtl.count()));
  std::printf("%d lease checks before the TTL's lower bound\n", held_checks);

  // Planted violations in the same data: each checker must catch its own.
  // 1. A victim item handed to a consumer right after the kill (before its
  //    TTL could pass) overlaps the victim's hold.
  HoldChecker early = checker;
  early.Add({.resource = absl::StrCat(*victim_ids.begin()),
             .holder = "planted",
             .start_ns = kill_ns + 1,
             .end_ns = kill_ns + 2,
             .exclusive = true});
  EXPECT_NE(early.Check(), std::nullopt);
  // 2. An item that was never acked is lost.
  DeliveryLedger lost = ledger;
  lost.Pushed(1'000'000);
  EXPECT_EQ(lost.Check(), "item 1000000 was lost: never acked");
  // 3. The broker leasing an item that a live lease holds.
  std::vector<WorkQueueEvent> doubled = account;
  for (size_t i = 0; i < doubled.size(); ++i) {
    if (doubled[i].type == EventType::kUpdated && doubled[i].fence != 0) {
      WorkQueueEvent again = doubled[i];
      again.fence += 1;
      doubled.insert(doubled.begin() + static_cast<std::ptrdiff_t>(i) + 1, again);
      break;
    }
  }
  auto caught = CheckBrokerAccount(doubled);
  ASSERT_TRUE(caught.has_value());
  EXPECT_NE(caught->find("while lease"), std::string::npos) << *caught;
}

}  // namespace
}  // namespace atomix::testing
