#include "atomix/internal/set_core.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

absl::StatusOr<v1::SetResponse> CallSet(ClientCore& core, const std::string& name,
                                        v1::SetRequest op, const char* op_name,
                                        const CallOptions& options, bool idempotent) {
  v1::Request request = NewRequest(PrimitiveKind::kSet, name);
  *request.mutable_set() = std::move(op);
  absl::StatusOr<v1::Response> response = core.Call(std::move(request), options, idempotent);
  if (!response.ok()) return response.status();
  if (!response->has_set()) return MissingResult(PrimitiveKind::kSet, name, op_name);
  return std::move(*response->mutable_set());
}

absl::StatusOr<Change> ToChange(absl::StatusOr<v1::SetResponse> r) {
  if (!r.ok()) return r.status();
  return Change{r->changed(), r->version()};
}

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
  absl::Status opened = OpenPrimitive(core, PrimitiveKind::kSet, name, options);
  if (!opened.ok()) return opened;
  return SetCore(std::move(core), std::string(name));
}

absl::StatusOr<Change> SetCore::Add(std::string element, const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_add()->set_element(std::move(element));
  return ToChange(CallSet(*core_, name_, std::move(op), "add", options, /*idempotent=*/false));
}

absl::StatusOr<Change> SetCore::Remove(std::string element, const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_remove()->set_element(std::move(element));
  return ToChange(CallSet(*core_, name_, std::move(op), "remove", options, /*idempotent=*/false));
}

absl::StatusOr<bool> SetCore::Contains(std::string element, const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_contains()->set_element(std::move(element));
  auto r = CallSet(*core_, name_, std::move(op), "contains", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  return r->contains();
}

absl::StatusOr<int64_t> SetCore::Size(const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_size();
  auto r = CallSet(*core_, name_, std::move(op), "size", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  return r->size();
}

absl::StatusOr<Version> SetCore::Clear(const CallOptions& options) const {
  v1::SetRequest op;
  op.mutable_clear();
  auto r = CallSet(*core_, name_, std::move(op), "clear", options, /*idempotent=*/false);
  if (!r.ok()) return r.status();
  return r->version();
}

absl::StatusOr<RawElementPage> SetCore::List(const std::string& start_after, uint32_t limit,
                                             const CallOptions& options) const {
  v1::SetRequest op;
  auto* list = op.mutable_list();
  list->set_start_after(start_after);
  list->set_limit(limit);
  auto r = CallSet(*core_, name_, std::move(op), "list", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  RawElementPage page;
  page.more = r->more();
  page.elements.reserve(r->elements_size());
  for (v1::SetElement& e : *r->mutable_elements()) {
    page.elements.push_back(Versioned<std::string>{std::move(*e.mutable_element()), e.version()});
  }
  return page;
}

SetCursor::SetCursor(SetCore set, ListOptions options)
    : set_(std::move(set)),
      options_(std::move(options)),
      start_after_(JustBefore(options_.prefix)) {}

absl::StatusOr<std::vector<Versioned<std::string>>> SetCursor::Next() {
  std::vector<Versioned<std::string>> out;
  if (done_) return out;
  // Elements are never empty, so start_after "" means "from the start".
  auto page = set_.List(start_after_, options_.page_size, options_);
  if (!page.ok()) return page.status();
  auto& elements = page->elements;
  // Each page must move past the previous one, or the listing would never end.
  if (!elements.empty() && !start_after_.empty() && elements.front().value <= start_after_) {
    done_ = true;
    return absl::InternalError(
        absl::StrCat("broker listed set \"", set_.name(), "\" out of order"));
  }
  if (page->more && elements.empty()) {
    done_ = true;
    return absl::InternalError(absl::StrCat("broker returned an empty page of set \"", set_.name(),
                                            "\" with more to follow"));
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
