#include "atomix/internal/set_core.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kSetKind.wire_type == v1::SET);
constexpr OpWire<v1::SetRequest, v1::SetResponse> kSetWire{
    kSetKind, &v1::Request::mutable_set, &v1::Response::has_set, &v1::Response::mutable_set};

Change ToChange(v1::SetResponse& r) { return Change{r.changed(), r.version()}; }

// A key that sorts before `prefix` and after almost every key that does not
// start with it: the prefix with its last byte lowered, followed by sixteen
// 0xff bytes. A prefix ending in a zero byte has an exact predecessor: the
// prefix without that byte.
std::string JustBefore(const std::string& prefix) {
  if (prefix.empty()) return prefix;
  std::string s = prefix;
  if (static_cast<unsigned char>(s.back()) == 0) {
    s.pop_back();
    return s;
  }
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) - 1);
  s.append(16, '\xff');
  return s;
}

}  // namespace

absl::StatusOr<SetCore> SetCore::Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                      const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kSetKind, name, options);
  if (!opened.ok()) return opened;
  return SetCore(std::move(core), std::string(name));
}

Future<Change> SetCore::AddAsync(std::string element, const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_add()->set_element(std::move(element));
  return CallOp<Change>(*core_, kSetWire, name_, std::move(op), "add", options,
                        CallKind{.idempotent = false}, ToChange);
}

Future<Change> SetCore::RemoveAsync(std::string element, const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_remove()->set_element(std::move(element));
  return CallOp<Change>(*core_, kSetWire, name_, std::move(op), "remove", options,
                        CallKind{.idempotent = false}, ToChange);
}

Future<bool> SetCore::ContainsAsync(std::string element, const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_contains()->set_element(std::move(element));
  return CallOp<bool>(*core_, kSetWire, name_, std::move(op), "contains", options,
                      CallKind{.idempotent = true},
                      [](v1::SetResponse& r) { return r.contains(); });
}

Future<int64_t> SetCore::SizeAsync(const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_size();
  return CallOp<int64_t>(*core_, kSetWire, name_, std::move(op), "size", options,
                         CallKind{.idempotent = true}, [](v1::SetResponse& r) { return r.size(); });
}

Future<Version> SetCore::ClearAsync(const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_clear();
  return CallOp<Version>(*core_, kSetWire, name_, std::move(op), "clear", options,
                         CallKind{.idempotent = false},
                         [](v1::SetResponse& r) { return r.version(); });
}

Future<RawElementPage> SetCore::ListAsync(const std::string& start_after, uint32_t limit,
                                          const CallOptions& options) const {
  v1::SetRequest op;
  auto* list = op.mutable_list();
  list->set_start_after(start_after);
  list->set_limit(limit);
  return CallOp<RawElementPage>(*core_, kSetWire, name_, std::move(op), "list", options,
                                CallKind{.idempotent = true}, [](v1::SetResponse& r) {
                                  RawElementPage page;
                                  page.more = r.more();
                                  page.elements.reserve(r.elements_size());
                                  for (v1::SetElement& e : *r.mutable_elements()) {
                                    page.elements.push_back(Versioned<std::string>{
                                        std::move(*e.mutable_element()), e.version()});
                                  }
                                  return page;
                                });
}

SetCursor::SetCursor(SetCore set, ListOptions options)
    : set_(std::move(set)),
      options_(std::move(options)),
      start_after_(JustBefore(options_.prefix)) {}

absl::StatusOr<std::vector<Versioned<std::string>>> SetCursor::Next() {
  std::vector<Versioned<std::string>> out;
  if (done_) return out;
  // Elements are never empty, so start_after "" means "from the start".
  auto page = set_.ListAsync(start_after_, options_.page_size, options_).get();
  if (!page.ok()) return page.status();
  auto& elements = page->elements;
  // Each page must move past the previous one, or the listing would never end.
  if (!elements.empty() && !start_after_.empty() && elements.front().value <= start_after_) {
    done_ = true;
    return ListedOutOfOrder(kSetKind, set_.name());
  }
  if (page->more && elements.empty()) {
    done_ = true;
    return EmptyPageWithMore(kSetKind, set_.name());
  }
  done_ = !page->more;
  if (!elements.empty()) start_after_ = elements.back().value;
  const std::string& prefix = options_.prefix;
  out.reserve(elements.size());
  for (auto& e : elements) {
    if (absl::StartsWith(e.value, prefix)) {
      out.push_back(std::move(e));
    } else if (e.value > prefix) {
      done_ = true;  // past every element with the prefix
      break;
    }
    // Otherwise it sorts before the prefix: skip it.
  }
  return out;
}

}  // namespace atomix::internal
