// The broker core.
#include "broker-sim/src/core/broker.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "broker-sim/src/core/request_access.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/engine/session_ids.h"
#include "broker-sim/src/state/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

#ifndef ATOMIX_VERSION
#define ATOMIX_VERSION "0.0.0"
#endif

namespace atomix::broker {
namespace {

// The field number of the set case of the op message's own oneof (see
// RequestOutcome::sub_op).
int SubOp(const v1::Request& request) {
  if (request.op_case() == v1::Request::OP_NOT_SET) return 0;
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByNumber(request.op_case());
  if (field == nullptr || field->message_type() == nullptr) return 0;
  const google::protobuf::Message& op =
      request.GetReflection()->GetMessage(request, field);
  const google::protobuf::Descriptor* type = op.GetDescriptor();
  if (type->oneof_decl_count() == 0) return 0;
  const google::protobuf::FieldDescriptor* set =
      op.GetReflection()->GetOneofFieldDescriptor(op, type->oneof_decl(0));
  return set == nullptr ? 0 : set->number();
}

}  // namespace

std::string NewBrokerId() {
  absl::BitGen gen;  // seeded from the OS entropy source
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

uint64_t NewSessionIdBase() {
  absl::BitGen gen;
  return absl::Uniform<uint64_t>(gen, uint64_t{1} << 32, uint64_t{1} << 62);
}

std::string NewSessionKey() {
  std::string key(kSessionKeyBytes, '\0');
  size_t filled = 0;
  while (filled < key.size()) {
    const ssize_t got = getrandom(key.data() + filled, key.size() - filled, 0);
    if (got > 0) {
      filled += static_cast<size_t>(got);
    } else if (got < 0 && errno != EINTR) {
      // No kernel CSPRNG (it always exists on Linux 3.17+): never run
      // with a predictable key.
      std::perror("getrandom");
      std::abort();
    }
  }
  return key;
}

Broker::Broker(std::unique_ptr<Store> store, Limits limits,
               std::string broker_id)
    : store_(std::move(store)),
      limits_(limits),
      broker_id_(broker_id.empty() ? NewBrokerId() : std::move(broker_id)) {}

void Broker::Execute(const v1::RequestBatch& batch, v1::ResponseBatch& out) {
  std::vector<Completion> ignored;
  Execute(batch, 0, out, ignored);
}

void Broker::Execute(const v1::RequestBatch& batch, uint64_t origin,
                     v1::ResponseBatch& out,
                     std::vector<Completion>& completions) {
  Execute(batch, origin, std::string(), out, completions);
}

void Broker::Execute(const v1::RequestBatch& batch, uint64_t origin,
                     const std::string& principal, v1::ResponseBatch& out,
                     std::vector<Completion>& completions) {
  absl::Notification answered;
  ExecuteAsync(batch, origin, principal,
               [&](v1::ResponseBatch& responses, std::vector<Completion>& late) {
                 for (v1::Response& r : *responses.mutable_responses()) {
                   *out.add_responses() = std::move(r);
                 }
                 for (Completion& c : late) completions.push_back(std::move(c));
                 answered.Notify();
               });
  answered.WaitForNotification();
}

void Broker::ExecuteAsync(v1::RequestBatch batch, uint64_t origin,
                          ExecuteDone done) {
  ExecuteAsync(std::move(batch), origin, std::string(), std::move(done));
}

absl::Status Broker::Authorize(const std::string& principal,
                               const v1::Request& request) const {
  const std::shared_ptr<const AccessPolicy> policy = access_.Current();
  if (policy == nullptr) return absl::OkStatus();
  return CheckRequest(*policy, principal, request);
}

absl::Status Broker::AuthorizeWatch(const std::string& principal,
                                    const v1::WatchRequest& request) const {
  const std::shared_ptr<const AccessPolicy> policy = access_.Current();
  if (policy == nullptr) return absl::OkStatus();
  return policy->Check(principal, AccessRight::kRead, request.name(), "watch");
}

bool Broker::HasAdmin(const std::string& principal,
                      std::string_view name) const {
  const std::shared_ptr<const AccessPolicy> policy = access_.Current();
  return policy == nullptr || policy->Allows(principal, AccessRight::kAdmin, name);
}

absl::Status Broker::AuthorizeAdmin(const std::string& principal,
                                    std::string_view call) const {
  const std::shared_ptr<const AccessPolicy> policy = access_.Current();
  if (policy == nullptr) return absl::OkStatus();
  return policy->Check(principal, AccessRight::kAdmin, "*", call);
}

void Broker::ExecuteAsync(v1::RequestBatch batch, uint64_t origin,
                          std::string principal, ExecuteDone done) {
  const int n = batch.requests_size();
  // With an observer: what each request is, taken before the requests move
  // to the store, and when the batch arrived.
  std::vector<RequestOutcome> outcomes;
  std::chrono::steady_clock::time_point arrived;
  if (observer_ != nullptr) {
    arrived = std::chrono::steady_clock::now();
    outcomes.resize(n);
    for (int i = 0; i < n; ++i) {
      const v1::Request& request = batch.requests(i);
      outcomes[i].type = request.type();
      outcomes[i].op = request.op_case();
      outcomes[i].sub_op = SubOp(request);
    }
  }
  // One policy for the whole batch, even if a reload lands meanwhile.
  const std::shared_ptr<const AccessPolicy> policy = access_.Current();
  v1::ResponseBatch out;
  out.mutable_responses()->Reserve(n);
  std::vector<v1::Request> valid;
  // Who sends them, and where they may act on other sessions' grants.
  Caller caller;
  caller.principal = principal;
  bool admin_everywhere = true;
  std::vector<int> slots;  // where each valid request's response goes
  std::vector<int> invalid;
  valid.reserve(n);
  slots.reserve(n);
  for (int i = 0; i < n; ++i) {
    v1::Request& request = *batch.mutable_requests(i);
    v1::Response* response = out.add_responses();
    response->set_id(request.id());
    absl::Status status = ValidateRequest(request, limits_);
    if (status.ok() && policy != nullptr) {
      status = CheckRequest(*policy, principal, request);
    }
    if (status.ok()) {
      slots.push_back(i);
      const bool admin = HasAdmin(principal, request.name());
      admin_everywhere = admin_everywhere && admin;
      caller.admin.push_back(admin);
      valid.push_back(std::move(request));
    } else {
      SetError(*response, status.code(), std::string(status.message()));
      invalid.push_back(i);
    }
  }
  auto answer = [this, out = std::move(out), slots = std::move(slots),
                 invalid = std::move(invalid), done = std::move(done),
                 outcomes = std::move(outcomes), arrived](
                    std::vector<v1::Response>& responses,
                    StoreResult& result) mutable {
    auto* answers = out.mutable_responses();
    // Every answer echoes its request's id, whatever a state machine did
    // to the response.
    for (size_t k = 0; k < slots.size() && k < responses.size(); ++k) {
      v1::Response& slot = answers->at(slots[k]);
      const uint64_t id = slot.id();
      slot = std::move(responses[k]);
      slot.set_id(id);
    }
    if (!invalid.empty()) {
      const int64_t revision = store_->revision();
      for (int i : invalid) answers->at(i).set_revision(revision);
    }
    if (observer_ != nullptr) {
      for (int i = 0; i < answers->size(); ++i) {
        const v1::Response& r = answers->at(i);
        outcomes[i].code = r.has_error() ? r.error().code() : 0;
      }
      for (size_t d : result.deferred) {
        if (d < slots.size()) outcomes[slots[d]].code = RequestOutcome::kWaiting;
      }
      observer_->OnBatch(outcomes, absl::FromChrono(
                                       std::chrono::steady_clock::now() - arrived));
    }
    if (!result.deferred.empty()) {
      // Drop the slots of waiting requests, keeping the others in order.
      std::vector<bool> dropped(answers->size(), false);
      for (size_t d : result.deferred) {
        if (d < slots.size()) dropped[slots[d]] = true;
      }
      int kept = 0;
      for (int i = 0; i < answers->size(); ++i) {
        if (dropped[i]) continue;
        if (kept != i) answers->SwapElements(kept, i);
        ++kept;
      }
      while (answers->size() > kept) answers->RemoveLast();
    }
    done(out, result.completions);
  };
  if (valid.empty()) {
    std::vector<v1::Response> none;
    StoreResult nothing;
    answer(none, nothing);
    return;
  }
  if (admin_everywhere) caller.admin.clear();
  store_->ApplyAsync(std::move(valid), origin, std::move(caller),
                     std::move(answer));
}

v1::Response Broker::Execute(const v1::Request& request) {
  v1::Response response;
  std::vector<Completion> ignored;
  Execute(request, 0, response, ignored);
  return response;
}

bool Broker::Execute(const v1::Request& request, uint64_t origin,
                     v1::Response& response,
                     std::vector<Completion>& completions) {
  return Execute(request, origin, std::string(), response, completions);
}

bool Broker::Execute(const v1::Request& request, uint64_t origin,
                     const std::string& principal, v1::Response& response,
                     std::vector<Completion>& completions) {
  v1::RequestBatch batch;
  *batch.add_requests() = request;
  v1::ResponseBatch out;
  Execute(batch, origin, principal, out, completions);
  if (out.responses_size() == 0) return false;  // it waits
  response = std::move(*out.mutable_responses(0));
  return true;
}

void Broker::Tick(absl::Time now, std::vector<Completion>& completions) {
  StoreResult result;
  store_->Tick(now, result);
  for (Completion& completion : result.completions) {
    completions.push_back(std::move(completion));
  }
}

void Broker::Cancel(uint64_t origin) { store_->Cancel(origin); }

void Broker::ExpireAllSessions(std::vector<Completion>& completions) {
  StoreResult result;
  store_->ExpireAllSessions(result);
  for (Completion& completion : result.completions) {
    completions.push_back(std::move(completion));
  }
}

v1::BrokerInfo Broker::Info() const {
  v1::BrokerInfo info;
  info.set_broker_id(broker_id_);
  info.set_revision(store_->revision());
  info.set_max_value_bytes(limits_.max_value_bytes);
  info.set_max_key_bytes(limits_.max_key_bytes);
  info.set_version(ATOMIX_VERSION);
  info.set_store(std::string(store_->kind()));
  return info;
}

}  // namespace atomix::broker
