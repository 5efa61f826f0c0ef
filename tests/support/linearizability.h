// A linearizability checker for concurrent histories (Wing & Gong's search
// with Lowe's state cache).
//
// A history is a list of completed operations, each with the times it was
// invoked and returned, its input and its observed output. The checker looks
// for a total order that respects real time (an operation that returned
// before another was invoked comes first) and in which every output is what
// a sequential model produces. Partition histories by independent object
// (e.g. one map key) before checking: the search is exponential in the
// number of overlapping operations, not in the history length.
//
//   std::vector<CounterOp> h = ...;               // recorded by 8 threads
//   EXPECT_TRUE(CheckLinearizable(h, CounterState{}, CounterStep));
//
// Thread-safety: pure functions.
#ifndef ATOMIX_TESTS_SUPPORT_LINEARIZABILITY_H_
#define ATOMIX_TESTS_SUPPORT_LINEARIZABILITY_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

namespace atomix::testing {

// Op must have int64_t members `invoke` and `complete` (any monotonic clock,
// complete >= invoke). Step(state, op) returns the next state if `op`'s
// observed output is what the model gives from `state`, else nullopt. State
// must be copyable, equality-comparable and hashable through Hash.
template <class State, class Op, class Step, class Hash = std::hash<State>>
bool CheckLinearizable(const std::vector<Op>& history, State init, Step step, Hash hash = {}) {
  const size_t n = history.size();
  if (n == 0) return true;

  // Events sorted by time; at equal times calls come before returns, which
  // treats touching operations as concurrent (the permissive choice).
  struct Node {
    int op;          // index into history
    bool is_call;
    Node* match;     // call <-> return
    Node* prev;
    Node* next;
  };
  std::vector<Node> nodes(2 * n + 1);
  struct Ev {
    int64_t t;
    int kind;  // 0 call, 1 return
    int op;
  };
  std::vector<Ev> evs;
  evs.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    evs.push_back({history[i].invoke, 0, static_cast<int>(i)});
    evs.push_back({history[i].complete, 1, static_cast<int>(i)});
  }
  std::sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) {
    if (a.t != b.t) return a.t < b.t;
    return a.kind < b.kind;
  });
  Node* head = &nodes[2 * n];
  head->op = -1;
  head->prev = nullptr;
  std::vector<Node*> call_of(n), ret_of(n);
  Node* last = head;
  for (size_t i = 0; i < evs.size(); ++i) {
    Node* x = &nodes[i];
    x->op = evs[i].op;
    x->is_call = evs[i].kind == 0;
    x->prev = last;
    x->next = nullptr;
    last->next = x;
    last = x;
    (x->is_call ? call_of : ret_of)[x->op] = x;
  }
  for (size_t i = 0; i < n; ++i) {
    call_of[i]->match = ret_of[i];
    ret_of[i]->match = call_of[i];
  }

  auto lift = [](Node* call) {
    call->prev->next = call->next;
    if (call->next) call->next->prev = call->prev;
    Node* ret = call->match;
    ret->prev->next = ret->next;
    if (ret->next) ret->next->prev = ret->prev;
  };
  auto unlift = [](Node* call) {
    Node* ret = call->match;
    ret->prev->next = ret;
    if (ret->next) ret->next->prev = ret;
    call->prev->next = call;
    if (call->next) call->next->prev = call;
  };

  using Bits = std::vector<uint64_t>;
  struct Key {
    Bits bits;
    State state;
    bool operator==(const Key& o) const { return bits == o.bits && state == o.state; }
  };
  struct KeyHash {
    Hash h;
    size_t operator()(const Key& k) const {
      size_t x = h(k.state);
      for (uint64_t w : k.bits) x = x * 1000003u ^ std::hash<uint64_t>{}(w);
      return x;
    }
  };
  std::unordered_set<Key, KeyHash> cache(16, KeyHash{hash});
  Bits linearized((n + 63) / 64, 0);
  State state = init;
  std::vector<std::pair<Node*, State>> stack;

  Node* entry = head->next;
  while (head->next != nullptr) {
    if (entry->is_call) {
      std::optional<State> next = step(state, history[entry->op]);
      bool advanced = false;
      if (next) {
        Bits bits = linearized;
        bits[entry->op / 64] |= uint64_t{1} << (entry->op % 64);
        if (cache.insert(Key{bits, *next}).second) {
          stack.emplace_back(entry, state);
          state = std::move(*next);
          linearized = std::move(bits);
          lift(entry);
          entry = head->next;
          advanced = true;
        }
      }
      if (!advanced) entry = entry->next;
    } else {
      // A return before its call was linearized: undo the last choice.
      if (stack.empty()) return false;
      auto [call, prev_state] = stack.back();
      stack.pop_back();
      state = prev_state;
      linearized[call->op / 64] &= ~(uint64_t{1} << (call->op % 64));
      unlift(call);
      entry = call->next;
    }
  }
  return true;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_LINEARIZABILITY_H_
