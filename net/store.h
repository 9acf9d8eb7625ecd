// store.h (private) — SQLite persistence of sessions and messages, through POCO Data.
//
// Every public method is one transaction, so the file only ever moves from one consistent state
// to the next (WAL journal: a kill -9 at any moment leaves the last committed state).
// Thread-safe: one connection guarded by a mutex; the service's calls are short.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smol/chat_service.h"
#include "smol/result.h"

namespace smol::net {

class Store {
 public:
  // data_dir "" = a private in-memory database (tests); otherwise <data_dir>/smolbot.db.
  static Result<std::unique_ptr<Store>> open(const std::string& data_dir);
  ~Store();

  Status create_session(const Session& session);
  Status update_session(const Session& session);  // title, settings, updated_ms
  Status delete_session(const std::string& id);
  Result<std::vector<Session>> list_sessions();  // newest first, without messages
  Result<std::optional<Session>> get_session(const std::string& id, bool with_messages);
  Result<int> count_sessions();

  // Appends and returns the new id; bumps the session's updated_ms.
  Result<int64_t> append_message(const std::string& session_id, const StoredMessage& message);
  // Deletes messages with id > after_id (all messages when after_id is 0).
  Status truncate_after(const std::string& session_id, int64_t after_id);
  // Replaces a message's content and deletes every later message, in one transaction.
  Status edit_and_truncate(const std::string& session_id, int64_t message_id,
                           const std::string& content);

 private:
  Store();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smol::net
