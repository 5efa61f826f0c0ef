// The engine: transactions (atomix.v1.TxnRequest) at one revision.
//
// Comparisons are reads of the machines as they are. The chosen branch's
// writes are all checked before the first is applied (a name bound to
// another type, a counter leaving the int64 range; ValidateTxn refused two
// types for one name),
// and the writes that remain cannot fail: conditions live in comparisons
// and removals of absent entries change nothing; a machine may refuse a
// write up front (StateMachine::CheckTxnWrite: a map prefix locked by
// another session). So a transaction applies
// all of its branch or nothing, and every machine it writes records its
// events at the one revision.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/engine/txn.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {
namespace {

// Whether a request with a session may leave something the session owns.
bool MayOwn(const v1::Request& request) {
  const PrimitiveSpec* spec = PrimitiveOf(request);
  return spec != nullptr && spec->session_owned != nullptr &&
         spec->session_owned(request);
}

void Fail(v1::Response& response, absl::StatusCode code,
          const std::string& where, const std::string& problem) {
  response.clear_txn();
  SetError(response, code, absl::StrCat(where, ": ", problem));
}

// Adds `delta` to `value` unless the result leaves the int64 range.
bool AddWithin(int64_t& value, int64_t delta) {
  int64_t sum = 0;
  if (__builtin_add_overflow(value, delta, &sum)) return false;
  value = sum;
  return true;
}

}  // namespace

bool Engine::ReadBound(const v1::Request& read, v1::Response& answer,
                       std::string& wrong_type) {
  const ApplyContext ctx{.revision = revision_, .now = now_, .limits = limits_};
  auto it = primitives_.find(read.name());
  if (it == primitives_.end()) {
    NewStateMachine(read.type())->Apply(read, ctx, answer);
    return true;
  }
  if (it->second->type() != read.type()) {
    wrong_type = WrongTypeMessage(read.name(), it->second->type(), read.type());
    return false;
  }
  it->second->Apply(read, ctx, answer);
  return true;
}

bool Engine::CheckTxnWrites(
    const google::protobuf::RepeatedPtrField<v1::TxnWrite>& writes,
    const char* branch, uint64_t session_id, v1::Response& response) {
  absl::flat_hash_map<std::string, int64_t> counters;
  // Names the branch may bind, per namespace (max_primitives_per_namespace).
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> unbound;
  for (const v1::TxnWrite& write : writes) {
    if (Find(write.name()) == nullptr) {
      unbound[NamespaceOf(write.name())].insert(write.name());
    }
  }
  for (const auto& [ns, names] : unbound) {
    if (!NamespaceHasRoom(*names.begin(), names.size(), response)) return false;
  }
  for (int i = 0; i < writes.size(); ++i) {
    const v1::TxnWrite& write = writes[i];
    const std::string where = absl::StrCat(branch, " write ", i);
    if (write.type() != v1::COUNTER) {
      const StateMachine* bound = Find(write.name());
      if (bound != nullptr && bound->type() != write.type()) {
        Fail(response, absl::StatusCode::kFailedPrecondition, where,
             WrongTypeMessage(write.name(), bound->type(), write.type()));
        return false;
      }
      if (bound == nullptr) continue;
      // A write the machine refuses (e.g. under another session's map
      // prefix lock) fails the transaction before anything is applied.
      if (absl::Status refused =
              bound->CheckTxnWrite(WriteRequest(write, session_id));
          !refused.ok()) {
        Fail(response, refused.code(), where, std::string(refused.message()));
        return false;
      }
      continue;
    }
    auto counter = counters.find(write.name());
    if (counter == counters.end()) {
      v1::Request read;
      read.set_type(v1::COUNTER);
      read.set_name(write.name());
      read.mutable_counter()->mutable_get();
      v1::Response answer;
      std::string wrong_type;
      if (!ReadBound(read, answer, wrong_type)) {
        Fail(response, absl::StatusCode::kFailedPrecondition, where,
             wrong_type);
        return false;
      }
      counter = counters.emplace(write.name(), answer.counter().value()).first;
    }
    if (write.has_counter_set()) {
      counter->second = write.counter_set().value();
    } else if (!AddWithin(counter->second, write.counter_add().delta())) {
      Fail(response, absl::StatusCode::kOutOfRange, where,
           absl::StrCat("counter ", QuoteName(write.name()), " would leave ",
                        "the int64 range: ", counter->second, " + ",
                        write.counter_add().delta()));
      return false;
    }
  }
  return true;
}

void Engine::ApplyTxn(const v1::Request& request, Sessions::Session* session,
                      v1::Response& response) {
  const v1::TxnRequest& txn = request.txn();
  v1::TxnResponse* out = response.mutable_txn();
  out->set_failed_compare(-1);
  for (int i = 0; i < txn.compare_size(); ++i) {
    const v1::TxnCompare& compare = txn.compare(i);
    v1::Response answer;
    std::string wrong_type;
    if (!ReadBound(CompareRead(compare), answer, wrong_type)) {
      Fail(response, absl::StatusCode::kFailedPrecondition,
           absl::StrCat("compare ", i), wrong_type);
      return;
    }
    std::string why = Evaluate(compare, Observe(compare.type(), answer));
    if (!why.empty()) {
      out->set_failed_compare(i);
      out->set_failure(std::move(why));
      break;
    }
  }
  const bool succeeded = out->failed_compare() < 0;
  out->set_succeeded(succeeded);
  const auto& writes = succeeded ? txn.success() : txn.failure();
  if (!CheckTxnWrites(writes, succeeded ? "success" : "failure",
                      request.session_id(), response)) {
    return;
  }

  const ApplyContext ctx{
      .revision = revision_ + 1, .now = now_, .limits = limits_};
  // Each machine's events in write order, recorded once per name.
  std::vector<std::pair<std::string, std::vector<v1::WatchEvent>>> events;
  absl::flat_hash_map<std::string, size_t> event_slot;
  bool mutated = false;
  for (const v1::TxnWrite& write : writes) {
    v1::TxnWriteResult* result = out->add_results();
    const v1::Request request_of_write =
        WriteRequest(write, request.session_id());
    v1::Request before;
    if (PreviousRead(write, before)) {
      v1::Response answer;
      std::string unused;
      ReadBound(before, answer, unused);  // the type was checked
      const Observed previous = Observe(write.type(), answer);
      if (previous.present) {
        v1::MapEntry* entry = result->mutable_previous();
        if (write.type() == v1::MAP) entry->set_key(before.map().get().key());
        entry->set_version(previous.version);
      }
      if (IsRemoval(write) && !previous.present) continue;
    }
    std::unique_ptr<StateMachine> fresh;
    v1::Response answer;
    StateMachine* machine = MachineFor(request_of_write, fresh, answer);
    ApplyResult step = machine->Apply(request_of_write, ctx, answer);
    result->set_changed(step.mutated);
    if (write.type() == v1::COUNTER) {
      result->set_counter(answer.counter().value());
    }
    mutated = mutated || step.mutated;
    if (fresh != nullptr && step.mutated) {
      Bind(write.name(), std::move(fresh));
    }
    if (fresh == nullptr) {
      if (session != nullptr && MayOwn(request_of_write)) {
        session->resources.insert(write.name());
      }
      Schedule(write.name(), *machine);
    }
    if (step.events.empty()) continue;
    auto [slot, added] = event_slot.try_emplace(write.name(), events.size());
    if (added) events.emplace_back(write.name(), std::vector<v1::WatchEvent>());
    auto& list = events[slot->second].second;
    for (v1::WatchEvent& e : step.events) list.push_back(std::move(e));
  }
  if (mutated) revision_ = ctx.revision;
  for (auto& [name, list] : events) Record(name, list);
}

}  // namespace atomix::broker
