// The meta file.
#include "broker-sim/src/disk/meta.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/disk/files.h"
#include "broker-sim/src/engine/session_ids.h"

namespace atomix::broker {

absl::Status WriteMeta(const std::string& dir, const Meta& meta) {
  return WriteFileAtomically(absl::StrCat(dir, "/meta"),
                             absl::StrCat("broker_id ", meta.broker_id, "\nsession_id_base ",
                                          meta.session_id_base, "\n",
                                          meta.session_key.empty()
                                              ? std::string()
                                              : absl::StrCat("session_key ",
                                                             absl::BytesToHexString(
                                                                 meta.session_key),
                                                             "\n")));
}

absl::StatusOr<Meta> ReadOrCreateMeta(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/meta");
  if (access(path.c_str(), F_OK) != 0) {
    Meta meta{NewBrokerId(), NewSessionIdBase(), NewSessionKey()};
    if (absl::Status written = WriteMeta(dir, meta); !written.ok()) return written;
    return meta;
  }
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Meta meta;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (kv.first == "broker_id") meta.broker_id = kv.second;
    if (kv.first == "session_id_base") (void)absl::SimpleAtoi(kv.second, &meta.session_id_base);
    if (kv.first == "session_key") {
      meta.session_key = absl::HexStringToBytes(kv.second);
      if (meta.session_key.size() != kSessionKeyBytes ||
          absl::BytesToHexString(meta.session_key) != absl::AsciiStrToLower(kv.second)) {
        return absl::DataLossError(absl::StrCat(
            path, " is damaged: session_key must be ", 2 * kSessionKeyBytes, " hex digits"));
      }
    }
  }
  if (meta.broker_id.empty() || meta.session_id_base == 0) {
    return absl::DataLossError(
        absl::StrCat(path, " is damaged: it needs a broker_id and a session_id_base line"));
  }
  return meta;
}

}  // namespace atomix::broker
