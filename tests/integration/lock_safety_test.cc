// Lock safety under contention: 16 threads in two atomix-test-client
// processes, each thread with a session of its own, take the same lock over
// and over. Each critical section records its fence and its CLOCK_MONOTONIC
// enter and exit times (one machine, one clock) and writes its grant to a map
// with IfFence. Merged and ordered by fence, the sections follow each other
// in time without overlapping, and every fenced write of a holder succeeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/client_process.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

constexpr int kProcesses = 2;
constexpr int kThreadsPerProcess = 8;
constexpr int kIterations = 300;
constexpr int kContenders = kProcesses * kThreadsPerProcess;
constexpr int kSections = kContenders * kIterations;

// One critical section, as atomix-test-client contend prints it.
struct Section {
  Version fence = 0;
  int64_t enter_ns = 0;
  int64_t exit_ns = 0;
  int put_code = 0;
  Version put_version = 0;
  std::string value;
};

// "done SECTIONS ERRORS OVERLAPS"
struct Done {
  int64_t sections = -1;
  int64_t errors = -1;
  int64_t overlaps = -1;
};

// Reads a contend process's output up to its "done" line.
void ReadContender(ClientProcess& process, std::vector<Section>& sections, Done& done) {
  for (;;) {
    // The process prints only once every thread has finished.
    auto line = process.ReadLine(seconds(120));
    ASSERT_TRUE(line.ok()) << line.status();
    std::vector<std::string> f = absl::StrSplit(*line, ' ');
    if (f[0] == "done") {
      ASSERT_EQ(f.size(), 4u) << *line;
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &done.sections) && absl::SimpleAtoi(f[2], &done.errors) &&
                  absl::SimpleAtoi(f[3], &done.overlaps))
          << *line;
      return;
    }
    ASSERT_EQ(f[0], "cs") << *line;
    ASSERT_EQ(f.size(), 7u) << *line;
    Section c;
    ASSERT_TRUE(absl::SimpleAtoi(f[1], &c.fence) && absl::SimpleAtoi(f[2], &c.enter_ns) &&
                absl::SimpleAtoi(f[3], &c.exit_ns) && absl::SimpleAtoi(f[4], &c.put_code) &&
                absl::SimpleAtoi(f[5], &c.put_version))
        << *line;
    c.value = f[6];
    sections.push_back(std::move(c));
  }
}

class LockSafety : public BrokerTest {};

TEST_F(LockSafety, SixteenContendersInTwoProcessesNeverOverlap) {
  std::vector<std::unique_ptr<ClientProcess>> processes;
  for (int p = 0; p < kProcesses; ++p) {
    auto process = ClientProcess::Start({broker().endpoint(), "5000", "contend", "safety",
                                         std::to_string(kThreadsPerProcess),
                                         std::to_string(kIterations), std::to_string(kContenders)});
    ASSERT_TRUE(process.ok()) << process.status();
    processes.push_back(std::move(*process));
  }
  std::vector<Section> sections;
  for (auto& process : processes) {
    Done done;
    ReadContender(*process, sections, done);
    if (HasFatalFailure()) return;
    EXPECT_EQ(done.sections, kThreadsPerProcess * kIterations);
    EXPECT_EQ(done.errors, 0) << "see the contender's stderr";
    EXPECT_EQ(done.overlaps, 0);
  }
  ASSERT_EQ(sections.size(), static_cast<size_t>(kSections));

  // In fence order: fences unique, each section entered after the previous
  // one exited (so grant order is fence order and no two overlap), and each
  // holder's fenced write applied while it held the lock, before the next
  // grant.
  std::ranges::sort(sections, {}, &Section::fence);
  std::vector<std::string> problems;
  for (size_t i = 0; i < sections.size(); ++i) {
    const Section& c = sections[i];
    const std::string at = absl::StrCat("section with fence ", c.fence, " (", c.value, "): ");
    if (c.fence <= 0) problems.push_back(at + "no fence");
    if (c.enter_ns > c.exit_ns) problems.push_back(at + "exit before enter");
    if (c.put_code != 0) {
      problems.push_back(absl::StrCat(at, "fenced write refused with code ", c.put_code));
    } else if (c.put_version <= c.fence) {
      problems.push_back(absl::StrCat(at, "fenced write at revision ", c.put_version));
    }
    if (i == 0) continue;
    const Section& prev = sections[i - 1];
    if (prev.fence == c.fence) problems.push_back(at + "fence granted twice");
    if (prev.exit_ns >= c.enter_ns) {
      problems.push_back(absl::StrCat(at, "entered ", prev.exit_ns - c.enter_ns,
                                      " ns before the section with fence ", prev.fence, " exited"));
    }
    if (c.put_code == 0 && prev.put_code == 0 && prev.put_version >= c.fence) {
      problems.push_back(absl::StrCat(at, "granted before the previous holder's write at revision ",
                                      prev.put_version));
    }
  }
  const size_t count = problems.size();
  problems.resize(std::min<size_t>(count, 10));
  EXPECT_EQ(count, 0u) << "first problems:\n" << absl::StrJoin(problems, "\n");

  // Every contender arrived, the lock is free, and the map holds the last
  // holder's write.
  auto ready = GetCounter(client(), "safety-ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->Get().value_or(-1), kContenders);
  auto lock = GetLock(client(), "safety");
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(lock->IsLocked().value_or(true), false);
  auto guarded = GetMap<std::string, std::string>(client(), "safety-guarded");
  ASSERT_TRUE(guarded.ok());
  auto owner = guarded->Get("owner");
  ASSERT_TRUE(owner.ok() && owner->has_value()) << owner.status();
  EXPECT_EQ((*owner)->value, sections.back().value);
  EXPECT_EQ((*owner)->version, sections.back().put_version);

  // A write fenced with a released grant is refused.
  auto stale = guarded->Put("owner", "late", IfFence("safety", Fence{sections.back().fence}));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), 0);
}

}  // namespace
}  // namespace atomix::testing
