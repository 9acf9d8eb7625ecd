#include "store.h"

#include <Poco/Data/LOB.h>
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

// POCO's SQLite extractor reads a TEXT value into std::string as a C string, so it stops at the
// first U+0000, and a model can emit that character. Free text is read as a CLOB instead, whose
// length comes from sqlite3_column_bytes; the stored value is the same TEXT either way.
using TextColumn = std::vector<Poco::Data::CLOB>;

std::string text_of(const Poco::Data::CLOB& c) {
  return std::string(c.content().begin(), c.content().end());
}

// The sessions table's columns, one vector per column (typed extraction, see TextColumn).
struct SessionRows {
  std::vector<std::string> ids;
  TextColumn titles, settings;
  std::vector<Poco::Int64> created, updated;

  Session at(size_t row) const {
    Session s;
    s.id = ids[row];
    s.title = text_of(titles[row]);
    s.settings = settings_from_json(json::parse(text_of(settings[row]), nullptr, false));
    s.created_ms = created[row];
    s.updated_ms = updated[row];
    return s;
  }
};

}  // namespace

Result<std::vector<Session>> Store::list_sessions() {
  std::vector<Session> out;
  Status st = impl_->transaction("list sessions", [&](Poco::Data::Session& db) {
    SessionRows rows;
    db << "SELECT id, title, settings, created_ms, updated_ms FROM sessions"
          " ORDER BY updated_ms DESC, id",
        into(rows.ids), into(rows.titles), into(rows.settings), into(rows.created),
        into(rows.updated), now;
    for (size_t r = 0; r < rows.ids.size(); ++r) out.push_back(rows.at(r));
  });
  if (!st.ok()) return Error{st.error()};
  return out;
}

Result<std::optional<Session>> Store::get_session(const std::string& id_in, bool with_messages) {
  std::optional<Session> out;
  Status st = impl_->transaction("get session", [&](Poco::Data::Session& db) {
    std::string id = id_in;
    SessionRows rows;
    db << "SELECT id, title, settings, created_ms, updated_ms FROM sessions WHERE id=?",
        into(rows.ids), into(rows.titles), into(rows.settings), into(rows.created),
        into(rows.updated), use(id), now;
    if (rows.ids.empty()) return;
    out = rows.at(0);
    if (!with_messages) return;
    std::vector<Poco::Int64> ids, created;
    std::vector<std::string> roles, statuses;
    TextColumn contents, reasonings, calls, stats;
    db << "SELECT id, role, content, reasoning, tool_calls, status, stats, created_ms"
          " FROM messages WHERE session_id=? ORDER BY id",
        into(ids), into(roles), into(contents), into(reasonings), into(calls), into(statuses),
        into(stats), into(created), use(id), now;
    for (size_t r = 0; r < ids.size(); ++r) {
      StoredMessage msg;
      msg.id = ids[r];
      msg.role = roles[r];
      msg.content = text_of(contents[r]);
      msg.reasoning = text_of(reasonings[r]);
      msg.tool_calls_json = text_of(calls[r]);
      msg.status = statuses[r];
      msg.stats_json = text_of(stats[r]);
      msg.created_ms = created[r];
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
