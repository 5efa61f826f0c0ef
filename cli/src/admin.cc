// Operator commands over the Admin service: status, sessions list, locks
// list, elections list, snapshot save FILE.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "atomix/v1/admin.grpc.pb.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"
#include "grpcpp/grpcpp.h"

namespace atomix::cli {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

// Runs `call` against each endpoint in turn until one answers (anything
// but UNAVAILABLE); `call` gets a stub and a deadline of --timeout.
absl::Status WithAdmin(const Context& ctx,
                       const std::function<grpc::Status(v1::Admin::Stub&, std::string)>& call) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = ctx.Credentials();
  if (!credentials.ok()) return credentials.status();
  std::string last_error;
  for (const std::string& endpoint : ctx.endpoints) {
    auto stub = v1::Admin::NewStub(grpc::CreateChannel(endpoint, *credentials));
    grpc::Status s = call(*stub, endpoint);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) return FromGrpc(s);
    last_error = absl::StrCat(endpoint, ": ", s.error_message());
  }
  // With TLS, gRPC's reason (a handshake failure, say) is worth showing.
  return absl::UnavailableError(absl::StrCat(
      "no broker answered at ", absl::StrJoin(ctx.endpoints, ","), " within ", ctx.timeout_flag,
      ctx.tls.has_value() && !last_error.empty() ? absl::StrCat(" (", last_error, ")")
                                                 : std::string()));
}

void SetDeadline(const Context& ctx, grpc::ClientContext& c) {
  c.set_deadline(std::chrono::system_clock::now() + ctx.timeout);
}

std::string TypeName(v1::PrimitiveType t) { return absl::AsciiStrToLower(v1::PrimitiveType_Name(t)); }

Field Summary(const std::string& s) { return s.empty() ? Field::Null() : Field::Str(s); }

std::string Without(const std::string& what, const std::string& prefix) {
  return absl::StartsWith(what, prefix) ? what.substr(prefix.size()) : what;
}

int Status(const Context& ctx) {
  v1::StatusResponse r;
  absl::Status s = WithAdmin(ctx, [&](v1::Admin::Stub& stub, const std::string&) {
    grpc::ClientContext c;
    SetDeadline(ctx, c);
    return stub.Status(&c, v1::StatusRequest(), &r);
  });
  if (!s.ok()) return ctx.Fail("status", s);
  PrintSingle(ctx.format, {{"broker_id", Field::Str(r.broker_id())},
                           {"version", Field::Str(r.version())},
                           {"revision", Field::Int(r.revision())},
                           {"store", Field::Str(r.store())},
                           {"role", Field::Str(r.role())},
                           {"serving", Field::Bool(r.serving())},
                           {"uptime_ms", Field::Int(r.uptime_ms())},
                           {"clients", Field::Uint(r.clients())},
                           {"sessions", Field::Uint(r.sessions())},
                           {"primitives", Field::Uint(r.primitives())}});
  return kExitOk;
}

int Sessions(const Context& ctx) {
  Printer out(ctx.format);
  v1::ListSessionsRequest request;
  for (;;) {
    v1::ListSessionsResponse page;
    absl::Status s = WithAdmin(ctx, [&](v1::Admin::Stub& stub, const std::string&) {
      grpc::ClientContext c;
      SetDeadline(ctx, c);
      return stub.ListSessions(&c, request, &page);
    });
    if (!s.ok()) {
      out.Flush();
      return ctx.Fail("sessions list", s);
    }
    for (const v1::SessionInfo& info : page.sessions()) {
      std::vector<Record> holds;
      std::vector<std::string> text;
      for (const v1::Holding& h : info.holds()) {
        holds.push_back({{"name", Field::Str(h.name())},
                         {"type", Field::Str(TypeName(h.type()))},
                         {"what", Field::Str(h.what())},
                         {"fence", Field::Int(h.fence())}});
        text.push_back(h.fence() != 0
                           ? absl::StrCat(h.name(), ": ", h.what(), " (fence ", h.fence(), ")")
                           : absl::StrCat(h.name(), ": ", h.what()));
      }
      out.Add({{"id", Field::Id(info.id())},
               {"ttl_ms", Field::Int(info.ttl_ms())},
               {"age_ms", Field::Int(info.age_ms())},
               {"expires_in_ms", Field::Int(info.expires_in_ms())},
               {"waiting", Field::Uint(info.waiting())},
               {"holds", Field::Objects(holds, absl::StrJoin(text, "; "))}});
    }
    if (!page.more() || page.sessions().empty()) break;
    request.set_after(page.sessions(page.sessions_size() - 1).id());
  }
  out.Flush();
  return kExitOk;
}

int Primitives(const Context& ctx, v1::PrimitiveType type, const std::string& prefix) {
  const bool locks = type == v1::LOCK;
  const std::string what = locks ? "locks list" : "elections list";
  Printer out(ctx.format);
  v1::ListPrimitivesRequest request;
  request.set_type(type);
  request.set_prefix(prefix);
  for (;;) {
    v1::ListPrimitivesResponse page;
    absl::Status s = WithAdmin(ctx, [&](v1::Admin::Stub& stub, const std::string&) {
      grpc::ClientContext c;
      SetDeadline(ctx, c);
      return stub.ListPrimitives(&c, request, &page);
    });
    if (!s.ok()) {
      out.Flush();
      return ctx.Fail(what, s);
    }
    for (const v1::PrimitiveInfo& p : page.primitives()) {
      const v1::Holding* top = p.holders().empty() ? nullptr : &p.holders(0);
      if (locks) {
        out.Add({{"name", Field::Str(p.name())},
                 {"holder", top ? Field::Id(top->session()) : Field::Null()},
                 {"fence", top ? Field::Int(top->fence()) : Field::Null()},
                 {"waiting", Field::Int(p.waiters_size())},
                 {"summary", Summary(p.summary())}});
        continue;
      }
      std::vector<std::string> candidates;
      if (top) candidates.push_back(Without(top->what(), "leader "));
      for (const v1::Holding& w : p.waiters()) candidates.push_back(Without(w.what(), "candidate "));
      out.Add({{"name", Field::Str(p.name())},
               {"leader", top ? Field::Str(Without(top->what(), "leader ")) : Field::Null()},
               {"session", top ? Field::Id(top->session()) : Field::Null()},
               {"term", top ? Field::Int(top->fence()) : Field::Null()},
               {"candidates", Field::Strings(candidates)},
               {"summary", Summary(p.summary())}});
    }
    if (!page.more() || page.primitives().empty()) break;
    request.set_after(page.primitives(page.primitives_size() - 1).name());
  }
  out.Flush();
  return kExitOk;
}

// Writes the broker's backup into `file` through file.tmp, synced and
// renamed into place, so `file` is either whole or untouched.
int SnapshotSave(const Context& ctx, const std::string& file) {
  const std::string tmp = file + ".tmp";
  int64_t revision = 0;
  uint64_t total = 0;
  uint64_t written = 0;
  std::string io_error;
  absl::Status s = WithAdmin(ctx, [&](v1::Admin::Stub& stub, const std::string&) {
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      io_error = absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno));
      return grpc::Status(grpc::StatusCode::CANCELLED, "");
    }
    grpc::ClientContext c;
    SetDeadline(ctx, c);
    auto reader = stub.Backup(&c, v1::BackupRequest());
    v1::BackupChunk chunk;
    bool first = true;
    written = 0;
    while (io_error.empty() && reader->Read(&chunk)) {
      if (first) {
        revision = chunk.revision();
        total = chunk.total_bytes();
        first = false;
      }
      const std::string& data = chunk.data();
      for (size_t off = 0; off < data.size();) {
        const ssize_t n = write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          io_error = absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno));
          c.TryCancel();
          break;
        }
        off += static_cast<size_t>(n);
      }
      written += data.size();
    }
    grpc::Status done = reader->Finish();
    if (io_error.empty() && done.ok() && fsync(fd) != 0) {
      io_error = absl::StrCat("cannot sync ", tmp, ": ", std::strerror(errno));
    }
    close(fd);
    if (!io_error.empty()) return grpc::Status(grpc::StatusCode::CANCELLED, "");
    return done;
  });
  if (!io_error.empty()) {
    unlink(tmp.c_str());
    return Report(kExitFailed, absl::StrCat("snapshot save: ", io_error));
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    return ctx.Fail("snapshot save", s);
  }
  if (written != total) {
    unlink(tmp.c_str());
    return Report(kExitFailed, absl::StrCat("snapshot save: the broker sent ", written,
                                            " bytes of ", total, "; nothing saved"));
  }
  if (rename(tmp.c_str(), file.c_str()) != 0) {
    const std::string error = std::strerror(errno);
    unlink(tmp.c_str());
    return Report(kExitFailed, absl::StrCat("snapshot save: cannot rename ", tmp, " to ", file,
                                            ": ", error));
  }
  const size_t slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : file.substr(0, slash));
  if (int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  PrintSingleRow(ctx.format, {{"file", Field::Str(file)},
                              {"revision", Field::Int(revision)},
                              {"bytes", Field::Uint(written)}});
  return kExitOk;
}

}  // namespace

void AddAdminCommands(CLI::App& app, Context& ctx) {
  app.add_subcommand("status", "print what the broker is and how it is doing")
      ->callback([&ctx] { ctx.run = [&ctx] { return Status(ctx); }; });

  CLI::App* sessions = app.add_subcommand("sessions", "the broker's open sessions");
  sessions->require_subcommand(1);
  sessions->add_subcommand("list", "print every open session and what it holds")
      ->callback([&ctx] { ctx.run = [&ctx] { return Sessions(ctx); }; });

  auto prefix = std::make_shared<std::string>();
  for (auto [group, type, help] :
       {std::tuple("locks", v1::LOCK, "print every lock with its holder, fence and waiters"),
        std::tuple("elections", v1::ELECTION,
                   "print every election with its leader, term and candidates")}) {
    CLI::App* g = app.add_subcommand(group, absl::StrCat("the broker's ", group));
    g->require_subcommand(1);
    CLI::App* list = g->add_subcommand("list", help);
    list->add_option("--prefix", *prefix, "only names that start with this");
    list->callback([&ctx, type, prefix] {
      ctx.run = [&ctx, type, prefix] { return Primitives(ctx, type, *prefix); };
    });
  }

  auto file = std::make_shared<std::string>();
  CLI::App* snapshot = app.add_subcommand("snapshot", "backups of the broker's state");
  snapshot->require_subcommand(1);
  CLI::App* save = snapshot->add_subcommand(
      "save", "stream a consistent backup into FILE (for atomix-broker --restore)");
  save->add_option("file", *file, "where to write the backup")->required();
  save->callback([&ctx, file] { ctx.run = [&ctx, file] { return SnapshotSave(ctx, *file); }; });
}

}  // namespace atomix::cli
