#include "store.h"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "settings_json.h"

namespace smol::net {

using nlohmann::json;
using Poco::Data::Keywords::bind;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS sessions ("
    " id TEXT PRIMARY KEY, title TEXT NOT NULL, settings TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL, content TEXT NOT NULL, reasoning TEXT NOT NULL,"
    " tool_calls TEXT NOT NULL, status TEXT NOT NULL, stats TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id)",
};

}  // namespace

struct Store::Impl {
  std::mutex mu;
  std::unique_ptr<Poco::Data::Session> db;

  // Runs `body` in one transaction; any POCO exception becomes an Error naming `what`.
  template <typename F>
  Status transaction(const char* what, F&& body) {
    std::lock_guard lock(mu);
    try {
      db->begin();
      body(*db);
      db->commit();
      return {};
    } catch (const Poco::Exception& e) {
      try {
        if (db->isTransaction()) db->rollback();
      } catch (...) {
      }
      return Error{std::string("store: ") + what + ": " + e.displayText()};
    }
  }
};

Store::Store() : impl_(std::make_unique<Impl>()) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& data_dir) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  std::string path = ":memory:";
  if (!data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) return Error{"store: cannot create data dir '" + data_dir + "': " + ec.message()};
    path = (std::filesystem::path(data_dir) / "smolbot.db").string();
  }
  std::unique_ptr<Store> store(new Store());
  try {
    store->impl_->db = std::make_unique<Poco::Data::Session>("SQLite", path);
    auto& db = *store->impl_->db;
    std::string mode;
    db << "PRAGMA journal_mode=WAL", into(mode), now;
    db << "PRAGMA foreign_keys=ON", now;
    // NORMAL is crash-safe in WAL mode (a process kill loses nothing committed); only a power
    // loss may drop the last transactions, never corrupt the file.
    db << "PRAGMA synchronous=NORMAL", now;
    db << "PRAGMA busy_timeout=5000", now;
    for (const char* sql : kSchema) db << sql, now;
  } catch (const Poco::Exception& e) {
    return Error{"store: cannot open '" + path + "': " + e.displayText()};
  }
  return store;
}

Status Store::create_session(const Session& s) {
  return impl_->transaction("create session", [&](Poco::Data::Session& db) {
    std::string id = s.id, title = s.title, settings = settings_to_json(s.settings).dump();
    Poco::Int64 created = s.created_ms, updated = s.updated_ms;
    db << "INSERT INTO sessions(id, title, settings, created_ms, updated_ms) VALUES(?,?,?,?,?)",
        use(id), use(title), use(settings), use(created), use(updated), now;
  });
}

Status Store::update_session(const Session& s) {
  return impl_->transaction("update session", [&](Poco::Data::Session& db) {
    std::string id = s.id, title = s.title, settings = settings_to_json(s.settings).dump();
    Poco::Int64 updated = s.updated_ms;
    db << "UPDATE sessions SET title=?, settings=?, updated_ms=? WHERE id=?", use(title),
        use(settings), use(updated), use(id), now;
  });
}

Status Store::delete_session(const std::string& id_in) {
  return impl_->transaction("delete session", [&](Poco::Data::Session& db) {
    std::string id = id_in;
    db << "DELETE FROM messages WHERE session_id=?", use(id), now;
    db << "DELETE FROM sessions WHERE id=?", use(id), now;
  });
}

namespace {

Session session_from_row(Poco::Data::RecordSet& rs, size_t row) {
  Session s;
  s.id = rs.value(0, row).convert<std::string>();
  s.title = rs.value(1, row).convert<std::string>();
  s.settings =
      settings_from_json(json::parse(rs.value(2, row).convert<std::string>(), nullptr, false));
  s.created_ms = rs.value(3, row).convert<Poco::Int64>();
  s.updated_ms = rs.value(4, row).convert<Poco::Int64>();
  return s;
}

}  // namespace

Result<std::vector<Session>> Store::list_sessions() {
  std::vector<Session> out;
  Status st = impl_->transaction("list sessions", [&](Poco::Data::Session& db) {
    Poco::Data::Statement select(db);
    select << "SELECT id, title, settings, created_ms, updated_ms FROM sessions"
              " ORDER BY updated_ms DESC, id";
    select.execute();
    Poco::Data::RecordSet rs(select);
    for (size_t r = 0; r < rs.rowCount(); ++r) out.push_back(session_from_row(rs, r));
  });
  if (!st.ok()) return Error{st.error()};
  return out;
}

Result<std::optional<Session>> Store::get_session(const std::string& id_in, bool with_messages) {
  std::optional<Session> out;
  Status st = impl_->transaction("get session", [&](Poco::Data::Session& db) {
    std::string id = id_in;
    Poco::Data::Statement select(db);
    select << "SELECT id, title, settings, created_ms, updated_ms FROM sessions WHERE id=?",
        use(id);
    select.execute();
    Poco::Data::RecordSet rs(select);
    if (rs.rowCount() == 0) return;
    out = session_from_row(rs, 0);
    if (!with_messages) return;
    Poco::Data::Statement msgs(db);
    msgs << "SELECT id, role, content, reasoning, tool_calls, status, stats, created_ms"
            " FROM messages WHERE session_id=? ORDER BY id",
        use(id);
    msgs.execute();
    Poco::Data::RecordSet m(msgs);
    for (size_t r = 0; r < m.rowCount(); ++r) {
      StoredMessage msg;
      msg.id = m.value(0, r).convert<Poco::Int64>();
      msg.role = m.value(1, r).convert<std::string>();
      msg.content = m.value(2, r).convert<std::string>();
      msg.reasoning = m.value(3, r).convert<std::string>();
      msg.tool_calls_json = m.value(4, r).convert<std::string>();
      msg.status = m.value(5, r).convert<std::string>();
      msg.stats_json = m.value(6, r).convert<std::string>();
      msg.created_ms = m.value(7, r).convert<Poco::Int64>();
      out->messages.push_back(std::move(msg));
    }
  });
  if (!st.ok()) return Error{st.error()};
  return out;
}

Result<int> Store::count_sessions() {
  int n = 0;
  Status st = impl_->transaction("count sessions", [&](Poco::Data::Session& db) {
    db << "SELECT COUNT(*) FROM sessions", into(n), now;
  });
  if (!st.ok()) return Error{st.error()};
  return n;
}

Result<int64_t> Store::append_message(const std::string& session_id, const StoredMessage& m) {
  Poco::Int64 new_id = 0;
  Status st = impl_->transaction("append message", [&](Poco::Data::Session& db) {
    std::string sid = session_id, role = m.role, content = m.content, reasoning = m.reasoning,
                calls = m.tool_calls_json, status = m.status, stats = m.stats_json;
    Poco::Int64 created = m.created_ms ? m.created_ms : now_ms();
    db << "INSERT INTO messages(session_id, role, content, reasoning, tool_calls, status, stats,"
          " created_ms) VALUES(?,?,?,?,?,?,?,?)",
        use(sid), use(role), use(content), use(reasoning), use(calls), use(status), use(stats),
        use(created), now;
    db << "SELECT last_insert_rowid()", into(new_id), now;
    db << "UPDATE sessions SET updated_ms=? WHERE id=?", use(created), use(sid), now;
  });
  if (!st.ok()) return Error{st.error()};
  return static_cast<int64_t>(new_id);
}

Status Store::truncate_after(const std::string& session_id, int64_t after_id) {
  return impl_->transaction("truncate messages", [&](Poco::Data::Session& db) {
    std::string sid = session_id;
    Poco::Int64 after = after_id, t = now_ms();
    db << "DELETE FROM messages WHERE session_id=? AND id>?", use(sid), use(after), now;
    db << "UPDATE sessions SET updated_ms=? WHERE id=?", use(t), use(sid), now;
  });
}

Status Store::edit_and_truncate(const std::string& session_id, int64_t message_id,
                                const std::string& content_in) {
  return impl_->transaction("edit message", [&](Poco::Data::Session& db) {
    std::string sid = session_id, content = content_in;
    Poco::Int64 mid = message_id, t = now_ms();
    db << "UPDATE messages SET content=? WHERE session_id=? AND id=?", use(content), use(sid),
        use(mid), now;
    db << "DELETE FROM messages WHERE session_id=? AND id>?", use(sid), use(mid), now;
    db << "UPDATE sessions SET updated_ms=? WHERE id=?", use(t), use(sid), now;
  });
}

}  // namespace smol::net
