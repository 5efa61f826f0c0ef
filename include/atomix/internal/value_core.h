// Internal: the bytes-level Value behind atomix::Value<T>. Not part of the
// public API. Each method sends one atomix.v1.ValueRequest; see atomix/value.h
// for the semantics.
//
// Thread-safety: an immutable handle (client core + name); copies are cheap
// and every method is safe to call from any thread.
#ifndef ATOMIX_INTERNAL_VALUE_CORE_H_
#define ATOMIX_INTERNAL_VALUE_CORE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/primitive.h"
#include "atomix/options.h"
#include "atomix/versioned.h"

namespace atomix::internal {

class ClientCore;

// atomix.v1.VALUE = 2.
inline constexpr PrimitiveKind kValueKind{2, "value", "key"};

class ATOMIX_EXPORT ValueCore {
 public:
  // Opens (creating if needed) the value `name` on the broker.
  static absl::StatusOr<ValueCore> Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                        const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  Future<std::optional<Versioned<std::string>>> GetAsync(const CallOptions& options) const;
  Future<Version> SetAsync(std::string value, const WriteOptions& options) const;
  Future<Version> InsertAsync(std::string value, const WriteOptions& options) const;
  Future<Version> DeleteAsync(const WriteOptions& options) const;

 private:
  ValueCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

}  // namespace atomix::internal

#endif  // ATOMIX_INTERNAL_VALUE_CORE_H_
