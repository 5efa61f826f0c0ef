// The rights each request needs.
#include "broker-sim/src/core/request_access.h"

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace atomix::broker {
namespace {

// Where a need comes from, for messages.
enum class Source { kOperation, kTxnCompare, kTxnWrite };

// Calls `need(right, name, source)` for each right `request` needs, until
// it returns false.
template <typename Need>
void ForEachNeed(const v1::Request& request, Need need) {
  switch (request.op_case()) {
    case v1::Request::OP_NOT_SET:
    case v1::Request::kSession:
    case v1::Request::kCancel:
      return;
    case v1::Request::kOpen:
      need(AccessRight::kRead, request.name(), Source::kOperation);
      return;
    case v1::Request::kTxn: {
      const v1::TxnRequest& txn = request.txn();
      for (const v1::TxnCompare& c : txn.compare()) {
        if (!need(AccessRight::kRead, c.name(), Source::kTxnCompare)) return;
      }
      for (const auto* branch : {&txn.success(), &txn.failure()}) {
        for (const v1::TxnWrite& w : *branch) {
          if (!need(AccessRight::kWrite, w.name(), Source::kTxnWrite)) return;
        }
      }
      return;
    }
    default:
      break;
  }
  const PrimitiveSpec* spec = PrimitiveOf(request);
  // An operation no primitive claims is refused by validation; to be safe,
  // it needs admin here.
  AccessRight right = AccessRight::kAdmin;
  if (spec != nullptr) {
    if (spec->is_read != nullptr && spec->is_read(request)) {
      right = AccessRight::kRead;
    } else {
      right = spec->right_of != nullptr ? spec->right_of(request) : AccessRight::kWrite;
    }
  }
  need(right, request.name(), Source::kOperation);
}

std::string Describe(const v1::Request& request, Source source) {
  switch (source) {
    case Source::kTxnCompare:
      return "txn compare";
    case Source::kTxnWrite:
      return "txn write";
    case Source::kOperation:
      break;
  }
  return DescribeOperation(request);
}

}  // namespace

std::string DescribeOperation(const v1::Request& request) {
  if (request.op_case() == v1::Request::OP_NOT_SET) return "no operation";
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByNumber(request.op_case());
  if (field == nullptr) return "an unknown operation";
  const PrimitiveSpec* spec = PrimitiveOf(request);
  std::string out = spec != nullptr ? std::string(spec->name) : field->name();
  if (field->message_type() == nullptr) return out;
  const google::protobuf::Message& op = request.GetReflection()->GetMessage(request, field);
  const google::protobuf::Descriptor* type = op.GetDescriptor();
  if (type->oneof_decl_count() == 0) return out;
  const google::protobuf::FieldDescriptor* set =
      op.GetReflection()->GetOneofFieldDescriptor(op, type->oneof_decl(0));
  if (set != nullptr) {
    out += ' ';
    out += set->name();
  }
  return out;
}

void RightsNeeded(const v1::Request& request, std::vector<NeededRight>& out) {
  ForEachNeed(request, [&](AccessRight right, std::string_view name, Source source) {
    out.push_back(NeededRight{right, name, Describe(request, source)});
    return true;
  });
}

absl::Status CheckRequest(const AccessPolicy& policy, std::string_view principal,
                          const v1::Request& request) {
  absl::Status status;
  ForEachNeed(request, [&](AccessRight right, std::string_view name, Source source) {
    if (policy.Allows(principal, right, name)) return true;
    status = policy.Check(principal, right, name, Describe(request, source));
    return false;
  });
  return status;
}

}  // namespace atomix::broker
