// UTF-8 handling and stop strings of the streaming path (white-box: private header).
#include "text_utils.h"

#include <gtest/gtest.h>

namespace smol::net {
namespace {

TEST(Utf8, ValidatesShortestFormOnly) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Utf8, TakeHoldsBackAnIncompleteCharacter) {
  std::string pending = "ab\xF0\x9F";
  EXPECT_EQ(take_utf8(pending, false), "ab");
  EXPECT_EQ(pending, "\xF0\x9F");
  pending += "\x98\x80";
  EXPECT_EQ(take_utf8(pending, false), "\xF0\x9F\x98\x80");
  EXPECT_TRUE(pending.empty());
}

TEST(Utf8, TakeReplacesMalformedBytesAndFlushesTails) {
  std::string pending =
      "a\xFF"
      "b\xE2\x82";
  EXPECT_EQ(take_utf8(pending, false),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(take_utf8(pending, true), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(pending.empty());
}

TEST(Utf8, TruncateNeverSplitsACharacter) {
  EXPECT_EQ(truncate_utf8("h\xC3\xA9llo", 2), "h");
  EXPECT_EQ(truncate_utf8("abc", 10), "abc");
}

TEST(StopMatcher, HoldsBackPossiblePrefixesAndCutsAtTheStop) {
  StopMatcher m({"STOP", "xy"});
  EXPECT_EQ(m.feed("hello S"), "hello ");
  EXPECT_EQ(m.feed("T"), "");
  EXPECT_EQ(m.feed("Oops"), "STOops");
  EXPECT_EQ(m.feed("aSTOPb"), "a");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.feed("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, FlushReleasesHeldText) {
  StopMatcher m({"world"});
  EXPECT_EQ(m.feed("hello wor"), "hello ");
  EXPECT_EQ(m.flush(), "wor");
  StopMatcher none({});
  EXPECT_EQ(none.feed("abc"), "abc");
}

}  // namespace
}  // namespace smol::net
