#include "smol/output_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smol::chat {
namespace {

// Everything the parser produced, in a comparable form.
struct Collected {
  std::string reasoning;
  std::string answer;
  std::vector<std::string> calls;  // "name|arguments-json"
  std::vector<std::string> warnings;
  std::vector<OutputEventKind> kinds;  // order of (merged) events
  bool unclosed = false;

  bool operator==(const Collected& o) const {
    return reasoning == o.reasoning && answer == o.answer && calls == o.calls &&
           warnings == o.warnings && unclosed == o.unclosed;
  }
};

void absorb(Collected& c, const std::vector<OutputEvent>& events) {
  for (const auto& e : events) {
    if (c.kinds.empty() || c.kinds.back() != e.kind || e.kind == OutputEventKind::kToolCall ||
        e.kind == OutputEventKind::kWarning) {
      c.kinds.push_back(e.kind);
    }
    switch (e.kind) {
      case OutputEventKind::kReasoning:
        c.reasoning += e.text;
        break;
      case OutputEventKind::kAnswer:
        c.answer += e.text;
        break;
      case OutputEventKind::kToolCall:
        c.calls.push_back(e.tool_call.name + "|" + e.tool_call.arguments.dump());
        break;
      case OutputEventKind::kWarning:
        c.warnings.push_back(e.text);
        break;
    }
  }
}

Collected run(const std::vector<std::string>& pieces, OutputParserOptions options = {}) {
  OutputParser parser(options);
  Collected c;
  for (const auto& p : pieces) absorb(c, parser.feed(p));
  absorb(c, parser.finish());
  c.unclosed = parser.reasoning_unclosed();
  EXPECT_EQ(parser.reasoning(), c.reasoning);
  EXPECT_EQ(parser.answer(), c.answer);
  EXPECT_EQ(parser.tool_calls().size(), c.calls.size());
  return c;
}

Collected run_whole(const std::string& text, OutputParserOptions options = {}) {
  return run({text}, options);
}

const char* const kFull =
    "<think>\nThe user wants weather; call the tool. 1 < 2 and </thin is not a tag.\n</think>\n"
    "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
    "\"Paris <3\"}}\n</tool_call>\n<tool_call>\n```json\n{\"name\": \"b\", \"arguments\": "
    "\"{\\\"x\\\": 1}\"}\n```\n</tool_call>\nDone <b>.";

TEST(OutputParser, ThinkAnswerAndToolCalls) {
  Collected c = run_whole(kFull);
  EXPECT_EQ(c.reasoning, "The user wants weather; call the tool. 1 < 2 and </thin is not a tag.");
  EXPECT_EQ(c.answer, "Let me check.\nDone <b>.");
  ASSERT_EQ(c.calls.size(), 2u);
  EXPECT_EQ(c.calls[0], "get_weather|{\"city\":\"Paris <3\"}");
  EXPECT_EQ(c.calls[1], "b|{\"x\":1}");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_FALSE(c.unclosed);
  std::vector<OutputEventKind> want = {OutputEventKind::kReasoning, OutputEventKind::kAnswer,
                                       OutputEventKind::kToolCall, OutputEventKind::kToolCall,
                                       OutputEventKind::kAnswer};
  EXPECT_EQ(c.kinds, want);
}

TEST(OutputParser, EverySplitIntoTwoPiecesGivesTheSameResult) {
  const std::string text = kFull;
  Collected whole = run_whole(text);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    Collected split = run({text.substr(0, cut), text.substr(cut)});
    EXPECT_TRUE(split == whole) << "split at byte " << cut << ": answer=" << split.answer
                                << " reasoning=" << split.reasoning;
  }
}

TEST(OutputParser, EverySplitIntoThreePiecesAroundTagsGivesTheSameResult) {
  // All (i, j) cut pairs would be ~40k runs; cutting twice inside every tag occurrence covers
  // the hard cases (a tag spread over three pieces) quickly.
  const std::string text = kFull;
  Collected whole = run_whole(text);
  for (std::string_view tag : {"<think>", "</think>", "<tool_call>", "</tool_call>"}) {
    for (size_t at = text.find(tag); at != std::string::npos; at = text.find(tag, at + 1)) {
      for (size_t i = at; i <= at + tag.size(); ++i) {
        for (size_t j = i; j <= at + tag.size(); ++j) {
          Collected split = run({text.substr(0, i), text.substr(i, j - i), text.substr(j)});
          EXPECT_TRUE(split == whole) << tag << " cut at " << i << "," << j;
        }
      }
    }
  }
}

TEST(OutputParser, ByteByByteStreamsIncrementally) {
  const std::string text = kFull;
  OutputParser parser;
  Collected c;
  size_t answer_events_before_finish = 0;
  for (char ch : text) {
    auto events = parser.feed(std::string(1, ch));
    for (const auto& e : events) answer_events_before_finish += e.kind == OutputEventKind::kAnswer;
    absorb(c, events);
  }
  absorb(c, parser.finish());
  EXPECT_TRUE(c == run_whole(text));
  // Text is released as it arrives, not saved up for finish().
  EXPECT_GT(answer_events_before_finish, 10u);
  EXPECT_EQ(c.answer.find("<tool"), std::string::npos);
  EXPECT_EQ(c.reasoning.find("<think"), std::string::npos);
}

TEST(OutputParser, NoThinkPrefilledPromptGivesPlainAnswer) {
  // SmolLM3 no-think prompts end with "<think>\n\n</think>\n": the model writes the answer only.
  Collected c = run({"Hel", "lo there", "!"});
  EXPECT_EQ(c.answer, "Hello there!");
  EXPECT_TRUE(c.reasoning.empty());
}

TEST(OutputParser, PromptOpenedThinkBlock) {
  OutputParserOptions options;
  options.starts_in_reasoning = true;
  Collected c = run({"step one\n</th", "ink>\n\nanswer"}, options);
  EXPECT_EQ(c.reasoning, "step one");
  EXPECT_EQ(c.answer, "answer");
}

TEST(OutputParser, UnclosedThinkAtEndIsFlushedAndFlagged) {
  Collected c = run({"<think>\nhalf a thou", "ght </thi"});
  EXPECT_EQ(c.reasoning, "half a thought </thi");
  EXPECT_TRUE(c.answer.empty());
  EXPECT_TRUE(c.unclosed);
  ASSERT_EQ(c.warnings.size(), 1u);
}

TEST(OutputParser, MalformedToolJsonBecomesTextPlusWarning) {
  const std::string bad = "<tool_call>\n{\"name\": \"f\", \"arguments\": {oops}\n</tool_call>";
  Collected c = run_whole("Calling. " + bad + " after");
  EXPECT_TRUE(c.calls.empty());
  EXPECT_EQ(c.answer, "Calling. " + bad + "after");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("not valid JSON"), std::string::npos);
}

TEST(OutputParser, ToolCallShapeProblemsAreWarnings) {
  for (const char* body : {"[1, 2]", "{\"arguments\": {}}", "{\"name\": \"\"}",
                           "{\"name\": \"f\", \"arguments\": \"not json\"}",
                           "{\"name\": \"f\", \"arguments\": 3}", "", "```json\n```"}) {
    Collected c = run_whole(std::string("<tool_call>") + body + "</tool_call>");
    EXPECT_TRUE(c.calls.empty()) << body;
    EXPECT_EQ(c.warnings.size(), 1u) << body;
    EXPECT_EQ(c.answer, std::string("<tool_call>") + body + "</tool_call>");
  }
}

TEST(OutputParser, ToolCallVariants) {
  Collected c = run_whole(
      "<tool_call>{\"name\": \"a\"}</tool_call><tool_call>{\"name\": \"b\", \"parameters\": "
      "{\"k\": [1]}}</tool_call><tool_call>```\n{\"name\": \"c\", \"arguments\": null}\n```"
      "</tool_call>");
  ASSERT_EQ(c.calls.size(), 3u);
  EXPECT_EQ(c.calls[0], "a|{}");
  EXPECT_EQ(c.calls[1], "b|{\"k\":[1]}");
  EXPECT_EQ(c.calls[2], "c|{}");
  EXPECT_TRUE(c.answer.empty());
}

TEST(OutputParser, UnclosedToolCallAtEndIsTextPlusWarning) {
  Collected c = run({"ok <tool_call>{\"name\": \"f\", \"argu"});
  EXPECT_TRUE(c.calls.empty());
  EXPECT_EQ(c.answer, "ok <tool_call>{\"name\": \"f\", \"argu");
  EXPECT_EQ(c.warnings.size(), 1u);
}

TEST(OutputParser, ThinkTagAfterAnswerTextIsText) {
  Collected c = run_whole("The tag <think> opens reasoning.");
  EXPECT_EQ(c.answer, "The tag <think> opens reasoning.");
  EXPECT_TRUE(c.reasoning.empty());
  OutputParserOptions anywhere;
  anywhere.think_only_at_start = false;
  Collected d = run_whole("a <think>b</think> c", anywhere);
  EXPECT_EQ(d.reasoning, "b");
  EXPECT_EQ(d.answer, "a c");
}

TEST(OutputParser, PartialTagPrefixAtEndIsText) {
  for (const char* tail : {"<", "<t", "<think", "<tool_cal"}) {
    Collected c = run({"answer ", tail});
    EXPECT_EQ(c.answer, std::string("answer ") + tail);
  }
}

TEST(OutputParser, ToolCallsDisabled) {
  OutputParserOptions options;
  options.parse_tool_calls = false;
  Collected c = run_whole("<tool_call>{\"name\": \"a\"}</tool_call>", options);
  EXPECT_TRUE(c.calls.empty());
  EXPECT_EQ(c.answer, "<tool_call>{\"name\": \"a\"}</tool_call>");
}

TEST(OutputParser, OversizedToolCallIsReleasedAsText) {
  OutputParser parser;
  Collected c;
  absorb(c, parser.feed("<tool_call>"));
  std::string chunk(4096, 'x');
  for (int k = 0; k < 80; ++k) absorb(c, parser.feed(chunk));
  absorb(c, parser.feed("tail"));
  absorb(c, parser.finish());
  EXPECT_TRUE(c.calls.empty());
  EXPECT_FALSE(c.warnings.empty());
  EXPECT_EQ(c.answer.size(), std::string("<tool_call>").size() + 80 * 4096 + 4);
}

TEST(OutputParser, EmptyStream) {
  Collected c = run({});
  EXPECT_TRUE(c.answer.empty());
  EXPECT_TRUE(c.reasoning.empty());
  EXPECT_TRUE(c.warnings.empty());
}

}  // namespace
}  // namespace smol::chat
