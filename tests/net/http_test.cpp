// Unit tests of the HTTP layer with a scripted backend: framing, resume, stop, disconnect,
// persistence, limits and the safety rules. The same behaviours on the real engine and
// synthetic model are covered by server_test.cpp.
#include <gtest/gtest.h>

#include "scripted_backend.h"
#include "server_harness.h"

namespace smol::net::testing {
namespace {

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(start(), ""); }

  std::string start(ServerOptions server = {}, ServiceOptions service = {}) {
    harness_ = std::make_unique<ServerHarness>(
        [this]() -> Result<std::unique_ptr<Backend>> {
          if (int ms = script_.load_ms.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
          }
          return std::unique_ptr<Backend>(new ScriptedBackend(script_));
        },
        server, service);
    return harness_->start();
  }
  Client& http() { return harness_->client(); }

  std::string new_session(const json& body = json::object()) {
    auto r = http().post("/api/sessions", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json_body()["id"].get<std::string>();
  }

  // Reads the session's event stream to the end.
  std::vector<SseEvent> events(const std::string& sid,
                               const std::map<std::string, std::string>& headers = {}) {
    std::vector<SseEvent> out;
    http().stream("GET", "/api/sessions/" + sid + "/events", "", headers, [&](const SseEvent& e) {
      out.push_back(e);
      return true;
    });
    return out;
  }

  Script script_;
  std::unique_ptr<ServerHarness> harness_;
};

std::string join(const std::vector<SseEvent>& events, const std::string& type) {
  std::string s;
  for (const auto& e : events) {
    if (e.type == type) s += json::parse(e.data)["text"].get<std::string>();
  }
  return s;
}

TEST_F(HttpTest, HealthModelsPropsMetrics) {
  EXPECT_EQ(http().get("/health").json_body()["status"], "ok");
  auto models = http().get("/v1/models").json_body();
  EXPECT_EQ(models["data"][0]["id"], "scripted");
  EXPECT_EQ(http().get("/props").json_body()["n_ctx"], 4096);
  auto m = http().get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("smolbot_model_loaded 1"), std::string::npos) << m.body;
}

TEST_F(HttpTest, UnknownRouteAndWrongMethodAreJsonErrors) {
  auto r = http().post("/v1/nothing", json::object());
  EXPECT_EQ(r.status, 404);
  auto err = r.json_body()["error"];
  EXPECT_TRUE(err["message"].is_string());
  EXPECT_TRUE(err["type"].is_string());
  EXPECT_EQ(err["code"], 404);
  EXPECT_EQ(http().request("PUT", "/api/sessions").status, 405);
}

TEST_F(HttpTest, SessionCrud) {
  std::string id = new_session({{"title", "first"}, {"system_prompt", "Be brief."}});
  auto list = http().get("/api/sessions").json_body()["sessions"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["title"], "first");
  auto patched = http().request("PATCH", "/api/sessions/" + id,
                                json{{"title", "renamed"},
                                     {"thinking", false},
                                     {"sampling", {{"temperature", 0.2}, {"top_k", 5}}}}
                                    .dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto s = http().get("/api/sessions/" + id).json_body();
  EXPECT_EQ(s["title"], "renamed");
  EXPECT_EQ(s["settings"]["system_prompt"], "Be brief.");
  EXPECT_EQ(s["settings"]["thinking"], false);
  EXPECT_EQ(s["settings"]["sampling"]["top_k"], 5);
  EXPECT_EQ(http().request("DELETE", "/api/sessions/" + id).status, 204);
  EXPECT_EQ(http().get("/api/sessions/" + id).status, 404);
}

TEST_F(HttpTest, LogitBiasAndIgnoreEosAreValidatedAndPersisted) {
  std::string id = new_session();
  auto patch = [&](const json& sampling) {
    return http().request("PATCH", "/api/sessions/" + id, json{{"sampling", sampling}}.dump());
  };
  auto r = patch({{"logit_bias", {{"5", -100}, {"250", 2.5}}}, {"ignore_eos", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(harness_->restart(), "");
  json s = http().get("/api/sessions/" + id).json_body()["settings"]["sampling"];
  EXPECT_EQ(s["logit_bias"], (json{{"5", -100.0}, {"250", 2.5}})) << s.dump();
  EXPECT_EQ(s["ignore_eos"], true);
  EXPECT_EQ(s["top_k"], 20);  // fields not named keep their value

  auto refused = [&](const json& sampling, const std::string& words) {
    auto r = patch(sampling);
    EXPECT_EQ(r.status, 400) << sampling.dump();
    std::string msg = r.json_body()["error"]["message"];
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  };
  refused({{"logit_bias", {{"abc", 1}}}}, "token ids");
  refused({{"logit_bias", {{"-3", 1}}}}, "token ids");
  refused({{"logit_bias", {{"99999999999", 1}}}}, "token ids");
  refused({{"logit_bias", {{"5", 101}}}}, "between -100 and 100");
  refused({{"logit_bias", {{"5", "up"}}}}, "between -100 and 100");
  refused({{"logit_bias", {1, 2}}}, "object");
  refused({{"logit_bias", {{"257", 1}}}}, "outside the vocabulary (257 tokens)");
  refused({{"ignore_eos", "yes"}}, "ignore_eos");
  json many = json::object();
  for (int i = 0; i < 1025; ++i) many[std::to_string(i % 200) + "0000" + std::to_string(i)] = 1;
  refused({{"logit_bias", many}}, "at most 1024");
  // A refused patch changed nothing; null clears the map.
  EXPECT_EQ(http().get("/api/sessions/" + id).json_body()["settings"]["sampling"]["logit_bias"],
            (json{{"5", -100.0}, {"250", 2.5}}));
  ASSERT_EQ(patch({{"logit_bias", nullptr}}).status, 200);
  EXPECT_EQ(http().get("/api/sessions/" + id).json_body()["settings"]["sampling"]["logit_bias"],
            json::object());

  // The OpenAI endpoint takes the same fields with the same checks.
  auto chat = [&](const json& extra) {
    json req = {{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 2}};
    req.update(extra);
    return http().post("/v1/chat/completions", req);
  };
  EXPECT_EQ(chat({{"logit_bias", {{"7", 50}}}, {"ignore_eos", true}}).status, 200);
  EXPECT_EQ(chat({{"logit_bias", {{"4000", 1}}}}).status, 400);
  EXPECT_EQ(chat({{"logit_bias", {{"7", -1000}}}}).status, 400);
}

TEST_F(HttpTest, MessageStreamsThinkingTokensAndDone) {
  std::string id = new_session();
  auto r = http().post("/api/sessions/" + id + "/messages", {{"content", "hi"}});
  ASSERT_EQ(r.status, 202) << r.body;
  std::string gen = r.json_body()["generation_id"];
  auto ev = events(id);
  EXPECT_EQ(http().last_content_type().rfind("text/event-stream", 0), 0u);
  ASSERT_FALSE(ev.empty());
  for (size_t i = 0; i < ev.size(); ++i) EXPECT_EQ(ev[i].id, gen + ":" + std::to_string(i));
  EXPECT_EQ(join(ev, "thinking"), "hmm");
  EXPECT_EQ(join(ev, "token"), "Hello world");
  ASSERT_EQ(ev.back().type, "done");
  json done = json::parse(ev.back().data);
  EXPECT_EQ(done["finish_reason"], "stop");
  EXPECT_GT(done["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(done["generated_tokens"],
            std::string("<think>\nhmm\n</think>\nHello world").size() + 1);
  auto s = http().get("/api/sessions/" + id).json_body();
  ASSERT_EQ(s["messages"].size(), 2u);
  EXPECT_EQ(s["messages"][1]["content"], "Hello world");
  EXPECT_EQ(s["messages"][1]["reasoning"], "hmm");
  EXPECT_EQ(s["messages"][1]["status"], "complete");
  EXPECT_EQ(s["title"], "hi");  // the first message names a default-titled session
}

// U+0000 is valid text (the random-weight model emits it now and then): the stream, the stored
// answer, a stored user message and a title all keep it and what follows it.
TEST_F(HttpTest, NulCharactersSurviveStreamAndStore) {
  using namespace std::string_literals;
  std::string id = new_session({{"title", "a\0b"s}});
  auto r = http().post("/api/sessions/" + id + "/messages", {{"content", "NUL\0after"s}});
  ASSERT_EQ(r.status, 202) << r.body;
  auto ev = events(id);
  EXPECT_EQ(join(ev, "thinking"), "h\0m"s);
  EXPECT_EQ(join(ev, "token"), "Hello\0world"s);
  auto s = http().get("/api/sessions/" + id).json_body();
  EXPECT_EQ(s["title"], "a\0b"s);
  ASSERT_EQ(s["messages"].size(), 2u);
  EXPECT_EQ(s["messages"][0]["content"], "NUL\0after"s);
  EXPECT_EQ(s["messages"][1]["content"], "Hello\0world"s);
  EXPECT_EQ(s["messages"][1]["reasoning"], "h\0m"s);
  EXPECT_EQ(http().get("/api/sessions").json_body()["sessions"][0]["title"], "a\0b"s);
}

TEST_F(HttpTest, ResumeWithLastEventIdLosesNothing) {
  script_.delay_ms = 5;
  std::string id = new_session();
  http().request("PATCH", "/api/sessions/" + id, json{{"max_tokens", 40}}.dump());
  ASSERT_EQ(http().post("/api/sessions/" + id + "/messages", {{"content", "LONG"}}).status, 202);
  std::vector<SseEvent> first;
  http().stream("GET", "/api/sessions/" + id + "/events", "", {}, [&](const SseEvent& e) {
    first.push_back(e);
    return first.size() < 5;  // then the "browser" reloads
  });
  ASSERT_EQ(first.size(), 5u);
  auto rest = events(id, {{"Last-Event-ID", first.back().id}});
  auto all = events(id);  // a fresh reader replays everything
  first.insert(first.end(), rest.begin(), rest.end());
  ASSERT_EQ(first.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(first[i].id, all[i].id);
    EXPECT_EQ(first[i].data, all[i].data);
  }
  EXPECT_EQ(all.back().type, "done");
}

TEST_F(HttpTest, StopEndsGenerationAndKeepsPartialAnswer) {
  script_.delay_ms = 2;
  std::string id = new_session();
  ASSERT_EQ(http().post("/api/sessions/" + id + "/messages", {{"content", "LONG"}}).status, 202);
  std::vector<SseEvent> ev;
  bool stopped = false;
  http().stream("GET", "/api/sessions/" + id + "/events", "", {}, [&](const SseEvent& e) {
    ev.push_back(e);
    if (!stopped && e.type == "token") {
      stopped = true;
      EXPECT_EQ(http().post("/api/sessions/" + id + "/stop", json::object()).json_body()["stopped"],
                true);
    }
    return true;
  });
  ASSERT_EQ(ev.back().type, "done");
  EXPECT_EQ(json::parse(ev.back().data)["finish_reason"], "cancelled");
  auto s = http().get("/api/sessions/" + id).json_body();
  ASSERT_EQ(s["messages"].size(), 2u);
  EXPECT_EQ(s["messages"][1]["status"], "stopped");
  EXPECT_EQ(s["messages"][1]["content"], join(ev, "token"));
}

TEST_F(HttpTest, RegenerateAndEditTruncate) {
  std::string id = new_session();
  http().post("/api/sessions/" + id + "/messages", {{"content", "one"}});
  events(id);
  http().post("/api/sessions/" + id + "/messages", {{"content", "two"}});
  events(id);
  auto s = http().get("/api/sessions/" + id).json_body();
  ASSERT_EQ(s["messages"].size(), 4u);
  ASSERT_EQ(http().post("/api/sessions/" + id + "/regenerate", json::object()).status, 202);
  events(id);
  s = http().get("/api/sessions/" + id).json_body();
  ASSERT_EQ(s["messages"].size(), 4u);
  EXPECT_EQ(s["messages"][3]["role"], "assistant");
  int64_t first_user = s["messages"][0]["id"];
  auto edit =
      http().request("PATCH", "/api/sessions/" + id + "/messages/" + std::to_string(first_user),
                     json{{"content", "uno"}}.dump());
  ASSERT_EQ(edit.status, 202) << edit.body;
  events(id);
  s = http().get("/api/sessions/" + id).json_body();
  ASSERT_EQ(s["messages"].size(), 2u);
  EXPECT_EQ(s["messages"][0]["content"], "uno");
  EXPECT_EQ(s["messages"][1]["content"], "Hello world");
}

TEST_F(HttpTest, RestartKeepsSessions) {
  std::string id = new_session({{"title", "keep me"}});
  http().post("/api/sessions/" + id + "/messages", {{"content", "remember"}});
  events(id);
  ASSERT_EQ(harness_->restart(), "");
  auto s = http().get("/api/sessions/" + id).json_body();
  EXPECT_EQ(s["title"], "keep me");
  ASSERT_EQ(s["messages"].size(), 2u);
  EXPECT_EQ(s["messages"][0]["content"], "remember");
  EXPECT_EQ(s["messages"][1]["content"], "Hello world");
}

TEST_F(HttpTest, OpenAiNonStreaming) {
  json req = {{"model", "x"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  auto r = http().post("/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.json_body();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello world");
  EXPECT_EQ(j["choices"][0]["message"]["reasoning_content"], "hmm");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
  // The same prompt again reuses the cached prefix.
  json again = http().post("/v1/chat/completions", req).json_body();
  EXPECT_GT(again["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 0);
}

TEST_F(HttpTest, OpenAiStreamingFraming) {
  json req = {{"messages", {{{"role", "user"}, {"content", "hi"}}}},
              {"stream", true},
              {"stream_options", {{"include_usage", true}}}};
  std::vector<SseEvent> ev;
  int status =
      http().stream("POST", "/v1/chat/completions", req.dump(), {}, [&](const SseEvent& e) {
        ev.push_back(e);
        return true;
      });
  ASSERT_EQ(status, 200);
  ASSERT_GE(ev.size(), 4u);
  EXPECT_EQ(ev.back().data, "[DONE]");
  json first = json::parse(ev[0].data);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string content, reasoning;
  std::string finish;
  json usage;
  for (size_t i = 0; i + 1 < ev.size(); ++i) {
    json c = json::parse(ev[i].data);
    if (c["choices"].empty()) {
      usage = c["usage"];
      continue;
    }
    const json& d = c["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(content, "Hello world");
  EXPECT_EQ(reasoning, "hmm");
  EXPECT_EQ(finish, "stop");
  ASSERT_TRUE(usage.is_object());
  EXPECT_TRUE(usage["prompt_tokens_details"].contains("cached_tokens"));
}

TEST_F(HttpTest, OpenAiToolCalls) {
  json req = {{"messages", {{{"role", "user"}, {"content", "TOOL please"}}}},
              {"tools",
               {{{"type", "function"},
                 {"function", {{"name", "get_weather"}, {"parameters", json::object()}}}}}}};
  json j = http().post("/v1/chat/completions", req).json_body();
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  json call = j["choices"][0]["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(json::parse(call["function"]["arguments"].get<std::string>())["city"], "Paris");
}

TEST_F(HttpTest, StopStringsCutTheAnswer) {
  json req = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"stop", "world"}};
  json j = http().post("/v1/chat/completions", req).json_body();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello ");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
}

TEST_F(HttpTest, ClientDisconnectCancelsWithinATokenOrSo) {
  script_.delay_ms = 5;
  json req = {{"messages", {{{"role", "user"}, {"content", "LONG"}}}},
              {"stream", true},
              {"max_tokens", 100000}};
  int chunks = 0;
  http().stream("POST", "/v1/chat/completions", req.dump(), {},
                [&](const SseEvent&) { return ++chunks < 3; });
  ASSERT_TRUE(eventually([&] { return harness_->service().metrics().generations_cancelled == 1; }));
  int steps = script_.steps;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(script_.steps.load(), steps);  // nothing runs any more
  EXPECT_LT(steps, 1000);
}

TEST_F(HttpTest, BadInputsGetClear400s) {
  auto bad = [&](const std::string& body) {
    auto r = http().request("POST", "/v1/chat/completions", body);
    EXPECT_EQ(r.status, 400) << body;
    return r.json_body()["error"]["message"].get<std::string>();
  };
  EXPECT_NE(bad("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(bad("[1,2]").find("JSON object"), std::string::npos);
  EXPECT_NE(bad("{\"messages\": \"\xff\xfe\"}").find("UTF-8"), std::string::npos);
  EXPECT_NE(bad("{}").find("messages"), std::string::npos);
  EXPECT_NE(bad(R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})")
                .find("temperature"),
            std::string::npos);
  EXPECT_NE(bad(R"({"messages":[{"role":"wizard","content":"x"}]})").find("role"),
            std::string::npos);
  EXPECT_NE(bad(R"({"messages":[{"role":"user","content":"x"}],"n":2})").find("n = 1"),
            std::string::npos);
  std::string huge =
      R"({"messages":[{"role":"user","content":")" + std::string(2 << 20, 'a') + "\"}]}";
  EXPECT_EQ(http().request("POST", "/v1/chat/completions", huge).status, 413);
  EXPECT_EQ(http().post("/api/sessions/nope/messages", {{"content", "x"}}).status, 404);
  EXPECT_EQ(http().post("/tokenize", {{"content", 5}}).status, 400);
  EXPECT_EQ(http().post("/detokenize", {{"tokens", {-1}}}).status, 400);
}

TEST_F(HttpTest, SecondMessageWhileGeneratingIsAConflict) {
  script_.delay_ms = 5;
  std::string id = new_session();
  http().post("/api/sessions/" + id + "/messages", {{"content", "LONG"}});
  EXPECT_EQ(http().post("/api/sessions/" + id + "/messages", {{"content", "again"}}).status, 409);
  http().post("/api/sessions/" + id + "/stop", json::object());
}

TEST_F(HttpTest, CrossSiteAndRebindingRequestsAreRefused) {
  std::string host = "127.0.0.1:" + std::to_string(harness_->port());
  EXPECT_EQ(http().get("/health", {{"Host", "evil.example:80"}}).status, 403);
  EXPECT_EQ(
      http().post("/api/sessions", json::object(), {{"Origin", "http://evil.example"}}).status,
      403);
  EXPECT_EQ(http().post("/api/sessions", json::object(), {{"Origin", "http://" + host}}).status,
            201);
  EXPECT_EQ(http().post("/api/sessions", json::object(), {{"Sec-Fetch-Site", "cross-site"}}).status,
            403);
  EXPECT_EQ(http()
                .request("OPTIONS", "/v1/chat/completions", "", {{"Origin", "http://evil.example"}})
                .status,
            403);
}

TEST_F(HttpTest, StaticFilesStayInsideWww) {
  EXPECT_EQ(http().get("/").status, 200);
  EXPECT_EQ(http().get("/../CMakeLists.txt").status, 404);
  EXPECT_EQ(http().get("/%2e%2e/CMakeLists.txt").status, 404);
  EXPECT_EQ(http().get("/.git/config").status, 404);
}

TEST_F(HttpTest, ApiKeyGuardsApiButNotHealth) {
  ServerOptions o;
  o.api_key = "sekrit";
  ASSERT_EQ(start(o), "");
  EXPECT_EQ(http().get("/v1/models").status, 401);
  EXPECT_EQ(http().get("/api/sessions").status, 401);
  EXPECT_EQ(http().get("/v1/models", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(http().get("/v1/models", {{"Authorization", "Bearer sekrit"}}).status, 200);
  EXPECT_EQ(http().get("/health").status, 200);
}

TEST_F(HttpTest, EarlyRejectionDoesNotPoisonAKeepAliveConnection) {
  ServerOptions o;
  o.api_key = "sekrit";
  ASSERT_EQ(start(o), "");
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<uint16_t>(harness_->port()));
  std::string body = json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}}.dump();
  Poco::Net::HTTPRequest post("POST", "/v1/chat/completions", "HTTP/1.1");
  post.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(post) << body;
  Poco::Net::HTTPResponse first;
  std::string ignored;
  Poco::StreamCopier::copyToString(session.receiveResponse(first), ignored);
  EXPECT_EQ(first.getStatus(), 401);
  // The unread body must not be taken for the next request on the same client session.
  Poco::Net::HTTPRequest get("GET", "/v1/models", "HTTP/1.1");
  get.set("Authorization", "Bearer sekrit");
  session.sendRequest(get);
  Poco::Net::HTTPResponse second;
  Poco::StreamCopier::copyToString(session.receiveResponse(second), ignored);
  EXPECT_EQ(second.getStatus(), 200);
}

TEST_F(HttpTest, FullQueueAnswers503) {
  ServiceOptions s;
  s.max_queue = 1;
  ASSERT_EQ(start({}, s), "");
  script_.delay_ms = 5;
  std::string id = new_session();
  ASSERT_EQ(http().post("/api/sessions/" + id + "/messages", {{"content", "LONG"}}).status, 202);
  json req = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  auto r = http().post("/v1/chat/completions", req);
  EXPECT_EQ(r.status, 503) << r.body;
  http().post("/api/sessions/" + id + "/stop", json::object());
}

TEST_F(HttpTest, SessionLimit) {
  ServiceOptions s;
  s.max_sessions = 2;
  ASSERT_EQ(start({}, s), "");
  new_session();
  new_session();
  EXPECT_EQ(http().post("/api/sessions", json::object()).status, 409);
}

TEST_F(HttpTest, HealthIs503WhileLoading) {
  script_.load_ms = 400;
  harness_ = std::make_unique<ServerHarness>([this]() -> Result<std::unique_ptr<Backend>> {
    std::this_thread::sleep_for(std::chrono::milliseconds(script_.load_ms.load()));
    return std::unique_ptr<Backend>(new ScriptedBackend(script_));
  });
  ASSERT_EQ(harness_->start(false), "");
  auto r = http().get("/health");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.json_body()["status"], "loading");
  EXPECT_TRUE(eventually([&] { return http().get("/health").status == 200; }));
}

TEST_F(HttpTest, KeepAliveCommentsWhileNothingHappens) {
  ServerOptions o;
  o.keepalive_comment_ms = 30;
  ASSERT_EQ(start(o), "");
  script_.delay_ms = 150;
  std::string id = new_session();
  http().request("PATCH", "/api/sessions/" + id, json{{"max_tokens", 3}}.dump());
  http().post("/api/sessions/" + id + "/messages", {{"content", "LONG"}});
  int comments = 0;
  http().stream(
      "GET", "/api/sessions/" + id + "/events", "", {}, [](const SseEvent&) { return true; },
      &comments);
  EXPECT_GT(comments, 0);
}

}  // namespace
}  // namespace smol::net::testing
