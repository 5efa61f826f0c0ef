// atomix-scale-layouts: heap bytes of the broker's map state and watch
// history, measured outside the broker with mallinfo2() (so malloc's chunk
// headers and rounding count), and of candidate layouts that would cost
// less. docs/performance.md ("Scale curves") quotes its output.
//
//   atomix-scale-layouts [--entries 1000000]
//
// Map: N entries "k%07d" -> 100-byte value, inserted in key order and in
// random order, as today's MapState::Entries and as three smaller layouts.
// History: the real WatchHistory (store/watch_history.h) holding its
// default 100,000 events, for 100-byte map INSERTED events and for counter
// events spread over 1 to 100,000 names, beside the same events kept
// serialized.
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "broker-sim/src/state/map.h"
#include "broker-sim/src/store/watch_history.h"

namespace {

namespace v1 = atomix::v1;

size_t InUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

std::string Key(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "k%07d", i);
  return b;
}

std::string Value(int i) {
  std::string v(100, 'v');
  std::memcpy(v.data(), &i, sizeof i);
  return v;
}

void Report(const char* what, size_t bytes, int n, double raw_per_item) {
  std::printf("%-72s %8.1f MB %7.1f B/item", what, bytes / 1e6,
              static_cast<double>(bytes) / n);
  if (raw_per_item > 0) {
    std::printf(" %5.2fx raw", static_cast<double>(bytes) / (n * raw_per_item));
  }
  std::printf("\n");
}

// Today's entry without the ephemeral owner and TTL expiry.
struct Slim {
  std::string value;
  int64_t version = 0;
};

// One heap block per entry: version, lengths, key bytes, value bytes.
struct Record {
  int64_t version;
  uint32_t key_size;
  uint32_t value_size;
  char data[];
  std::string_view key() const { return {data, key_size}; }
};

struct RecordLess {
  using is_transparent = void;
  bool operator()(const Record* a, const Record* b) const { return a->key() < b->key(); }
  bool operator()(const Record* a, std::string_view b) const { return a->key() < b; }
  bool operator()(std::string_view a, const Record* b) const { return a < b->key(); }
};

// Bump allocation from 1 MiB slabs (no per-entry malloc header).
class Slabs {
 public:
  ~Slabs() {
    for (char* s : slabs_) std::free(s);
  }
  char* Allocate(size_t n) {
    n = (n + 7) & ~size_t{7};
    if (n > left_) {
      at_ = static_cast<char*>(std::malloc(kSlab));
      slabs_.push_back(at_);
      left_ = kSlab;
    }
    char* p = at_;
    at_ += n;
    left_ -= n;
    return p;
  }

 private:
  static constexpr size_t kSlab = 1 << 20;
  std::vector<char*> slabs_;
  char* at_ = nullptr;
  size_t left_ = 0;
};

Record* NewRecord(const std::string& k, const std::string& v, char* memory) {
  Record* r = reinterpret_cast<Record*>(memory);
  r->version = 1;
  r->key_size = static_cast<uint32_t>(k.size());
  r->value_size = static_cast<uint32_t>(v.size());
  std::memcpy(r->data, k.data(), k.size());
  std::memcpy(r->data + k.size(), v.data(), v.size());
  return r;
}

void Maps(int n) {
  std::printf("map state, %d entries of 8-byte key + 100-byte value (108 raw bytes):\n", n);
  for (bool random : {false, true}) {
    std::vector<int> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    if (random) std::shuffle(order.begin(), order.end(), std::mt19937(1));
    const char* how = random ? "random order" : "key order";
    char what[160];
    {
      const size_t before = InUse();
      atomix::broker::MapState::Entries m;
      for (int i : order) m.emplace(Key(i), atomix::broker::MapState::Entry{Value(i), 1});
      std::snprintf(what, sizeof what, "  today: btree_map<string, Entry> (%s)", how);
      Report(what, InUse() - before, n, 108);
    }
    {
      const size_t before = InUse();
      absl::btree_map<std::string, Slim> m;
      for (int i : order) m.emplace(Key(i), Slim{Value(i), 1});
      std::snprintf(what, sizeof what, "  Entry of value and version only (%s)", how);
      Report(what, InUse() - before, n, 108);
    }
    {
      const size_t before = InUse();
      absl::btree_set<Record*, RecordLess> m;
      for (int i : order) {
        const std::string k = Key(i), v = Value(i);
        m.insert(NewRecord(k, v, static_cast<char*>(
                                     std::malloc(sizeof(Record) + k.size() + v.size()))));
      }
      std::snprintf(what, sizeof what, "  one malloc block per entry, btree of pointers (%s)", how);
      Report(what, InUse() - before, n, 108);
      for (Record* r : m) std::free(r);
    }
    {
      const size_t before = InUse();
      Slabs slabs;
      absl::btree_set<Record*, RecordLess> m;
      for (int i : order) {
        const std::string k = Key(i), v = Value(i);
        m.insert(NewRecord(k, v, slabs.Allocate(sizeof(Record) + k.size() + v.size())));
      }
      std::snprintf(what, sizeof what, "  the same blocks in 1 MiB slabs, btree of pointers (%s)", how);
      Report(what, InUse() - before, n, 108);
    }
  }
}

std::vector<v1::WatchEvent> MapEvent(int i) {
  std::vector<v1::WatchEvent> events(1);
  v1::WatchEvent& e = events[0];
  e.set_type(v1::WatchEvent::INSERTED);
  e.set_revision(1000 + i);
  v1::MapEntry* entry = e.mutable_entry();
  entry->set_key(Key(i));
  entry->set_value(std::string(100, 'v'));
  entry->set_version(1000 + i);
  return events;
}

std::vector<v1::WatchEvent> CounterEvent(int i) {
  std::vector<v1::WatchEvent> events(1);
  events[0].set_type(v1::WatchEvent::UPDATED);
  events[0].set_revision(1000 + i);
  events[0].set_value(i);
  events[0].set_previous_value(i - 1);
  return events;
}

void Histories() {
  const atomix::broker::WatchHistoryOptions defaults;
  const int kept = static_cast<int>(defaults.max_events);
  std::printf("watch history, default bounds (%zu events, %zu bytes serialized):\n",
              defaults.max_events, defaults.max_bytes);
  {
    const size_t before = InUse();
    atomix::broker::WatchHistory history(defaults);
    for (int i = 0; i < 2 * kept; ++i) history.Append("m", 1000 + i, MapEvent(i));
    char what[160];
    std::snprintf(what, sizeof what,
                  "  today: map INSERTED events, 100-byte values (%zu bytes serialized)",
                  history.bytes());
    Report(what, InUse() - before, static_cast<int>(history.events()), 0);
  }
  {
    const size_t before = InUse();
    std::vector<std::string> serialized;
    serialized.reserve(static_cast<size_t>(kept));
    for (int i = 0; i < kept; ++i) serialized.push_back(MapEvent(i)[0].SerializeAsString());
    Report("  the same events serialized, one std::string each", InUse() - before, kept, 0);
  }
  for (int names : {1, 100, 10000, 100000}) {
    const size_t before = InUse();
    atomix::broker::WatchHistory history(defaults);
    for (int i = 0; i < 3 * kept; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "c%06d", i % names);
      history.Append(name, 1000 + i, CounterEvent(i));
    }
    char what[160];
    std::snprintf(what, sizeof what, "  today: counter events over %d counters", names);
    Report(what, InUse() - before, static_cast<int>(history.events()), 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int entries = 1000000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--entries") == 0 && i + 1 < argc) {
      entries = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: atomix-scale-layouts [--entries N]\n");
      return 2;
    }
  }
  if (entries < 1) return 2;
  Maps(entries);
  Histories();
  return 0;
}
