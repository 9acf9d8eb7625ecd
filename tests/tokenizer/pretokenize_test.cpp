// The Llama-3 split, piece by piece, on cases chosen for each alternative of the regex.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smol/pretokenize.h"

namespace smol::tokenizer {
namespace {

std::vector<std::string> split(std::string_view text) {
  Llama3Splitter s;
  std::vector<std::string_view> pieces;
  s.split(text, pieces);
  std::string joined;
  std::vector<std::string> out;
  for (auto p : pieces) {
    EXPECT_FALSE(p.empty());
    joined += p;
    out.emplace_back(p);
  }
  EXPECT_EQ(joined, text) << "pieces must cover the input exactly";
  return out;
}

using V = std::vector<std::string>;

TEST(Llama3Split, Empty) { EXPECT_EQ(split(""), V{}); }

TEST(Llama3Split, WordsTakeOneLeadingNonLetter) {
  EXPECT_EQ(split("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split("(word) \tx"), (V{"(word", ")", " ", "\tx"}));
  EXPECT_EQ(split("$var"), (V{"$var"}));
  EXPECT_EQ(split("\nword"), (V{"\n", "word"}));  // \r and \n never prefix a word
}

TEST(Llama3Split, ContractionsAnyCase) {
  EXPECT_EQ(split("don't"), (V{"don", "'t"}));
  EXPECT_EQ(split("DON'T"), (V{"DON", "'T"}));
  EXPECT_EQ(split("we'Re they'VE I'M you'lL he'D it'S"),
            (V{"we", "'Re", " they", "'VE", " I", "'M", " you", "'lL", " he", "'D", " it", "'S"}));
  EXPECT_EQ(split("'sup"), (V{"'s", "up"}));
  EXPECT_EQ(split("'x"), (V{"'x"}));  // not a contraction: punctuation-prefixed word
  EXPECT_EQ(split("'"), (V{"'"}));
}

TEST(Llama3Split, NumbersInGroupsOfThree) {
  EXPECT_EQ(split("1"), (V{"1"}));
  EXPECT_EQ(split("1234567"), (V{"123", "456", "7"}));
  EXPECT_EQ(split("x2024y"), (V{"x", "202", "4", "y"}));
  EXPECT_EQ(split(" 42"), (V{" ", "42"}));
  EXPECT_EQ(split("٣٤٥٦"), (V{"٣٤٥", "٦"}));  // Arabic-Indic digits are \p{N}
  EXPECT_EQ(split("½⅓"), (V{"½⅓"}));          // No is \p{N} too
}

TEST(Llama3Split, PunctuationWithOptionalSpaceAndNewlines) {
  EXPECT_EQ(split("a, b!!\n\nc"), (V{"a", ",", " b", "!!\n\n", "c"}));
  EXPECT_EQ(split("x ...\r\n"), (V{"x", " ...\r\n"}));
  EXPECT_EQ(split("  ->"), (V{" ", " ->"}));
}

TEST(Llama3Split, Whitespace) {
  EXPECT_EQ(split("a   b"), (V{"a", "  ", " b"}));  // \s+(?!\S) leaves one space for the word
  EXPECT_EQ(split("a   "), (V{"a", "   "}));        // at the end the run stays whole
  EXPECT_EQ(split("a  \n  b"), (V{"a", "  \n", " ", " b"}));  // \s*[\r\n]+ ends at the newline
  EXPECT_EQ(split("\n\n\n"), (V{"\n\n\n"}));
  EXPECT_EQ(split(" \t 7"), (V{" \t", " ", "7"}));
  EXPECT_EQ(split("x\u3000y"), (V{"x", "\u3000y"}));  // U+3000 is White_Space, not a letter
}

TEST(Llama3Split, NonLatinScripts) {
  EXPECT_EQ(split("日本語のテキスト"), (V{"日本語のテキスト"}));
  EXPECT_EQ(split("مرحبا بالعالم"), (V{"مرحبا", " بالعالم"}));
  // Devanagari signs are \p{M}, not \p{L}: they end a letter run and may prefix the next.
  EXPECT_EQ(split("नमस्ते"), (V{"नमस", "्त", "े"}));
}

TEST(Llama3Split, CharClasses) {
  EXPECT_EQ(char_class('a'), kClassLetter);
  EXPECT_EQ(char_class('7'), kClassNumber);
  EXPECT_EQ(char_class('\v'), kClassSpace);
  EXPECT_EQ(char_class(0x85), kClassSpace);     // NEL
  EXPECT_EQ(char_class(0xA0), kClassSpace);     // NBSP
  EXPECT_EQ(char_class(0x1C), 0);               // not White_Space (Python's \s disagrees)
  EXPECT_EQ(char_class(0x200B), 0);             // zero-width space is Cf
  EXPECT_EQ(char_class(0x4E00), kClassLetter);  // CJK ideograph (Lo)
  EXPECT_EQ(char_class(0x1F600), 0);            // emoji (So)
}

}  // namespace
}  // namespace smol::tokenizer
