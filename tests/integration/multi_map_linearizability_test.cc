// Concurrent MultiMap histories against a real broker, from several threads
// of this process and from several child processes (this same binary, run
// with a filter for the child-only test and the environment variable
// ATOMIX_MULTIMAP_CHILD), must be linearizable. Each child writes its
// history, timed with CLOCK_MONOTONIC like the parent's, to its log file;
// the parent merges the histories and checks each key with a sequential
// model of one key's set of values. The model must also reject histories
// that no order explains.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atomix/atomix.h"
#include "tests/support/linearizability.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

constexpr int kKeys = 3;
constexpr int kValues = 4;  // values "v0".."v3", in this byte order
constexpr int kOpsPerWorker = 500;
constexpr const char* kChildVariable = "ATOMIX_MULTIMAP_CHILD";

// ---- The model: one key's values ------------------------------------------

struct KeyValues {
  // The version of each value's pair; 0 when the key does not hold it.
  std::array<int64_t, kValues> version{};
  // The revision of the key's last change: the next change takes a higher one.
  int64_t last = 0;

  int Count() const {
    int n = 0;
    for (int64_t v : version) n += v != 0;
    return n;
  }
  bool operator==(const KeyValues&) const = default;
  template <class H>
  friend H AbslHashValue(H h, const KeyValues& s) {
    return H::combine(std::move(h), s.version, s.last);
  }
};

struct PairOp {
  enum Kind { kPut, kRemove, kRemoveAll, kContainsKey, kContains, kGet };
  int64_t invoke = 0;
  int64_t complete = 0;
  Kind kind = kGet;
  int key = 0;
  int value = 0;                             // Put, Remove, Contains: the value's number
  bool answer = false;                       // Put, Remove: changed; Contains*: the answer
  int64_t version = 0;                       // Put, Remove, RemoveAll: the answer's version
  int64_t count = 0;                         // RemoveAll: pairs removed
  std::vector<std::pair<int, int64_t>> got;  // Get: (value, version) in order
};

std::optional<KeyValues> Step(const KeyValues& s, const PairOp& op) {
  // A change: it must take a revision past the key's last one.
  const auto changed = [&](int value, int64_t version) -> std::optional<KeyValues> {
    if (op.version <= s.last) return std::nullopt;
    KeyValues next = s;
    if (value >= 0) next.version[value] = version;
    next.last = op.version;
    return next;
  };
  // The version of the op's pair (ops without a value carry value 0).
  const int64_t held = s.version[op.value];
  switch (op.kind) {
    case PairOp::kPut:
      if (held != 0) return !op.answer && op.version == held ? std::optional(s) : std::nullopt;
      return op.answer ? changed(op.value, op.version) : std::nullopt;
    case PairOp::kRemove:
      if (held == 0) return !op.answer && op.version == 0 ? std::optional(s) : std::nullopt;
      return op.answer ? changed(op.value, 0) : std::nullopt;
    case PairOp::kRemoveAll: {
      if (s.Count() == 0) {
        return op.count == 0 && op.version == 0 ? std::optional(s) : std::nullopt;
      }
      if (op.count != s.Count()) return std::nullopt;
      std::optional<KeyValues> next = changed(-1, 0);
      if (next) next->version.fill(0);
      return next;
    }
    case PairOp::kContainsKey:
      return op.answer == (s.Count() > 0) ? std::optional(s) : std::nullopt;
    case PairOp::kContains:
      return op.answer == (held != 0) ? std::optional(s) : std::nullopt;
    case PairOp::kGet: {
      std::vector<std::pair<int, int64_t>> expected;
      for (int v = 0; v < kValues; ++v) {
        if (s.version[v] != 0) expected.emplace_back(v, s.version[v]);
      }
      return op.got == expected ? std::optional(s) : std::nullopt;
    }
  }
  return std::nullopt;
}

bool Linearizable(const std::vector<PairOp>& history) {
  return CheckLinearizable(history, KeyValues{}, Step, absl::Hash<KeyValues>{});
}

// ---- Histories as text, one operation a line --------------------------------

// "H kind key value invoke complete answer version count v:ver,v:ver".
std::string Format(const PairOp& op) {
  std::string got;
  for (const auto& [v, version] : op.got)
    absl::StrAppend(&got, got.empty() ? "" : ",", v, ":", version);
  return absl::StrCat("H ", op.kind, " ", op.key, " ", op.value, " ", op.invoke, " ", op.complete,
                      " ", op.answer ? 1 : 0, " ", op.version, " ", op.count, " ",
                      got.empty() ? "-" : got);
}

std::optional<PairOp> Parse(const std::string& line) {
  std::istringstream in(line);
  std::string tag, got;
  int kind = 0, answer = 0;
  PairOp op;
  if (!(in >> tag >> kind >> op.key >> op.value >> op.invoke >> op.complete >> answer >>
        op.version >> op.count >> got) ||
      tag != "H" || kind < PairOp::kPut || kind > PairOp::kGet) {
    return std::nullopt;
  }
  op.kind = static_cast<PairOp::Kind>(kind);
  op.answer = answer != 0;
  if (got != "-") {
    for (absl::string_view item : absl::StrSplit(got, ',')) {
      std::pair<std::string, std::string> parts = absl::StrSplit(item, ':');
      op.got.emplace_back(std::stoi(parts.first), std::stoll(parts.second));
    }
  }
  return op;
}

// ---- One worker's operations --------------------------------------------------

std::string KeyName(int k) { return absl::StrCat("k", k); }
std::string ValueName(int v) { return absl::StrCat("v", v); }

// Runs kOpsPerWorker random operations on the multimap "lin" through
// `client`; the history, or the first error.
absl::StatusOr<std::vector<PairOp>> RunWorker(const Client& client, uint32_t seed) {
  auto mm = GetMultiMap<std::string, std::string>(client, "lin");
  if (!mm.ok()) return mm.status();
  std::mt19937 rng(seed);
  std::vector<PairOp> history;
  for (int i = 0; i < kOpsPerWorker; ++i) {
    PairOp op;
    op.key = static_cast<int>(rng() % kKeys);
    op.value = static_cast<int>(rng() % kValues);
    const std::string key = KeyName(op.key);
    const std::string value = ValueName(op.value);
    const int dice = static_cast<int>(rng() % 20);
    op.invoke = NowNanos();
    absl::Status status;
    if (dice < 6) {
      op.kind = dice < 3 ? PairOp::kPut : PairOp::kRemove;
      auto c = op.kind == PairOp::kPut ? mm->Put(key, value) : mm->Remove(key, value);
      op.complete = NowNanos();
      status = c.status();
      if (c.ok()) op.answer = c->changed, op.version = c->version;
    } else if (dice < 7) {
      op.kind = PairOp::kRemoveAll;
      auto r = mm->RemoveAll(key);
      op.complete = NowNanos();
      status = r.status();
      if (r.ok()) op.count = r->count, op.version = r->version;
    } else if (dice < 12) {
      op.kind = dice < 9 ? PairOp::kContainsKey : PairOp::kContains;
      auto r = op.kind == PairOp::kContainsKey ? mm->Contains(key) : mm->Contains(key, value);
      op.complete = NowNanos();
      status = r.status();
      if (r.ok()) op.answer = *r;
    } else {
      op.kind = PairOp::kGet;
      // At most kValues values: one page, so one linearizable read.
      for (const auto& v : mm->Get(key)) {
        if (!v.ok()) {
          status = v.status();
          break;
        }
        op.got.emplace_back(std::stoi(v->value.substr(1)), v->version);
      }
      op.complete = NowNanos();
    }
    if (!status.ok()) return status;
    history.push_back(std::move(op));
  }
  return history;
}

// ---- The child process ----------------------------------------------------------

// Runs only as a child: ATOMIX_MULTIMAP_CHILD = "endpoint;worker;go file".
// Prints "ready", waits for the go file, then prints its history.
TEST(MultiMapChild, RecordsHistory) {
  const char* spec = std::getenv(kChildVariable);
  if (spec == nullptr) GTEST_SKIP() << "runs as a child of ThreadsAndProcesses";
  std::vector<std::string> parts = absl::StrSplit(spec, ';');
  ASSERT_EQ(parts.size(), 3u) << spec;
  ClientOptions options;
  options.endpoints = {parts[0]};
  options.connect_timeout = std::chrono::seconds(10);
  options.default_call_timeout = std::chrono::seconds(10);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto opened = GetMultiMap<std::string, std::string>(*client, "lin");
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::printf("ready\n");
  std::fflush(stdout);
  ASSERT_TRUE(
      WaitUntil([&] { return access(parts[2].c_str(), F_OK) == 0; }, std::chrono::seconds(60)));
  auto history = RunWorker(*client, 1000 + static_cast<uint32_t>(std::stoi(parts[1])));
  ASSERT_TRUE(history.ok()) << history.status();
  std::string out;
  for (const PairOp& op : *history) absl::StrAppend(&out, Format(op), "\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

// ---- The parent ------------------------------------------------------------------

class MultiMapLinearizability : public BrokerTest {};

TEST_F(MultiMapLinearizability, ThreadsAndProcesses) {
  constexpr int kThreads = 4;
  constexpr int kChildren = 3;
  const std::string dir = MakeTempDir("multimap-history");
  struct RemoveDir {
    const std::string& dir;
    ~RemoveDir() { std::filesystem::remove_all(dir); }
  } remove_dir{dir};
  const std::string go = dir + "/go";
  std::vector<pid_t> children;
  std::vector<std::string> logs;
  for (int c = 0; c < kChildren; ++c) {
    logs.push_back(absl::StrCat(dir, "/child-", c, ".log"));
    auto pid =
        SpawnTestChild({absl::StrCat(kChildVariable, "=", broker().endpoint(), ";", c, ";", go)},
                       "MultiMapChild.RecordsHistory", logs.back());
    ASSERT_TRUE(pid.ok()) << pid.status();
    children.push_back(*pid);
  }
  // Everyone starts together: the children once they are connected.
  ASSERT_TRUE(WaitUntil(
      [&] { return EveryLogHas(logs, "ready\n"); },
      std::chrono::seconds(60)))
      << ReadFile(logs[0]);
  std::ofstream(go).put('\n');

  std::mutex mu;
  std::vector<PairOp> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto history = RunWorker(client(), static_cast<uint32_t>(t));
      ASSERT_TRUE(history.ok()) << history.status();
      std::lock_guard<std::mutex> l(mu);
      all.insert(all.end(), history->begin(), history->end());
    });
  }
  for (auto& th : threads) th.join();

  for (size_t c = 0; c < children.size(); ++c) {
    int status = 0;
    ASSERT_TRUE(WaitUntil([&] { return waitpid(children[c], &status, WNOHANG) == children[c]; },
                          std::chrono::seconds(120)))
        << "child " << c << " did not finish:\n"
        << ReadFile(logs[c]);
    ASSERT_EQ(ExitCode(status), 0) << ReadFile(logs[c]);
    std::istringstream lines(ReadFile(logs[c]));
    int parsed = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("H ", 0) != 0) continue;
      std::optional<PairOp> op = Parse(line);
      ASSERT_TRUE(op.has_value()) << line;
      all.push_back(*op);
      ++parsed;
    }
    EXPECT_EQ(parsed, kOpsPerWorker) << ReadFile(logs[c]);
  }
  ASSERT_EQ(all.size(), size_t{(kThreads + kChildren) * kOpsPerWorker});

  std::map<int, std::vector<PairOp>> by_key;
  for (const PairOp& op : all) by_key[op.key].push_back(op);
  for (const auto& [k, ops] : by_key) {
    EXPECT_TRUE(Linearizable(ops)) << KeyName(k) << " with " << ops.size() << " operations";
  }

  // The same history with one read corrupted (a version nobody wrote) must
  // be rejected: the check has teeth on real data.
  for (auto& [k, ops] : by_key) {
    for (PairOp& op : ops) {
      if (op.kind == PairOp::kGet && !op.got.empty()) {
        op.got.front().second += 1'000'000'000;
        EXPECT_FALSE(Linearizable(ops)) << KeyName(k);
        return;
      }
    }
  }
  ADD_FAILURE() << "no Get saw any value";
}

// ---- The model on its own ------------------------------------------------------

PairOp Op(PairOp::Kind kind, int value, int64_t invoke, int64_t complete) {
  PairOp op;
  op.kind = kind;
  op.value = value;
  op.invoke = invoke;
  op.complete = complete;
  return op;
}

TEST(MultiMapModel, AcceptsOverlappingOperationsInSomeOrder) {
  PairOp put = Op(PairOp::kPut, 1, 0, 10);
  put.answer = true;
  put.version = 7;
  PairOp get = Op(PairOp::kGet, 0, 5, 6);  // overlaps the put: sees it
  get.got = {{1, 7}};
  PairOp contains = Op(PairOp::kContainsKey, 0, 1, 2);  // overlaps too: before it
  contains.answer = false;
  PairOp again = Op(PairOp::kPut, 1, 20, 30);
  again.version = 7;  // no change: the version that added it
  PairOp all = Op(PairOp::kRemoveAll, 0, 40, 50);
  all.count = 1;
  all.version = 9;
  EXPECT_TRUE(Linearizable({put, get, contains, again, all}));
}

TEST(MultiMapModel, RejectsPlantedNonLinearizableHistories) {
  PairOp put = Op(PairOp::kPut, 2, 0, 10);
  put.answer = true;
  put.version = 5;
  // A read that starts after the put returned cannot miss it.
  PairOp stale = Op(PairOp::kContains, 2, 20, 30);
  stale.answer = false;
  EXPECT_FALSE(Linearizable({put, stale}));
  // Nor can it see another version of the pair.
  PairOp get = Op(PairOp::kGet, 0, 20, 30);
  get.got = {{2, 4}};
  EXPECT_FALSE(Linearizable({put, get}));
  // Two puts of one pair cannot both add it.
  PairOp twice = put;
  twice.invoke = 40, twice.complete = 50, twice.version = 6;
  EXPECT_FALSE(Linearizable({put, twice}));
  // A later change cannot take an earlier revision.
  PairOp remove = Op(PairOp::kRemove, 2, 40, 50);
  remove.answer = true;
  remove.version = 3;
  EXPECT_FALSE(Linearizable({put, remove}));
  // RemoveAll removes every value, not fewer.
  PairOp all = Op(PairOp::kRemoveAll, 0, 40, 50);
  all.count = 2;
  all.version = 8;
  EXPECT_FALSE(Linearizable({put, all}));
  // The history from above, with the second put's answer planted: still
  // linearizable without the plant, not with it.
  twice.answer = false;
  twice.version = 5;
  EXPECT_TRUE(Linearizable({put, twice}));
}

}  // namespace
}  // namespace atomix::testing
