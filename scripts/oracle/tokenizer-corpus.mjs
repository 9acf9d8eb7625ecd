// Writes tests/data/tokenizer/corpus.json: the strings the tokenizer golden tests cover.
// Run: node scripts/oracle/tokenizer-corpus.mjs   (then gen-tokenizer-golden.mjs for the ids)
// Each entry: {name, text, parse_special}. Categories follow issue 4: whitespace runs, tab and
// newline mixes, digits of 1-12 characters, contractions, punctuation runs, emoji, CJK, Arabic,
// Devanagari, Thai, other scripts, mixed scripts, code, URLs, markdown, chat-template specials,
// control/odd code points, the empty string and long texts.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.join(root, "tests/data/tokenizer/corpus.json");

const corpus = [];
const add = (category, texts, parse_special = false) => {
  for (const text of texts) {
    corpus.push({ name: `${category}/${corpus.filter((e) => e.name.startsWith(category + "/")).length}`,
                  text, parse_special });
  }
};

add("empty", [""]);

// Whitespace runs of every length 1..16 (spaces), alone, before a word and after a word.
const ws = [];
for (let n = 1; n <= 16; n++) ws.push(" ".repeat(n));
for (const n of [1, 2, 3, 4, 7, 8]) ws.push(" ".repeat(n) + "word", "word" + " ".repeat(n), "a" + " ".repeat(n) + "b");
ws.push("\t", "\t\t", "\t\t\t\t", " \t ", "\t \t", "\u00a0", "a\u00a0b", "\u3000x", "x\u2003y", "\v\f",
        " \u2028 ", "\u0085", "x \u00a0 y", "  \t  x", "end \t", " 7", "  7", "\t7", "  (x)");
add("whitespace", ws);

add("newlines", [
  "\n", "\n\n", "\n\n\n\n", "\r", "\r\n", "\r\n\r\n", "\n\r", " \n", "\n ", " \n ", "  \n  ",
  "line1\nline2", "a\n\nb", "a\n\n\nb", "a \n b", "x\r\ny", " \n\n ", "\t\n\t", "\n\tindented",
  "\t\tindented\n\t\t\tmore\n", "end.\n", "end.\n\n", "!!\n\n", "word\n", "\nword", "a\r\n\r\n\tb",
  "  \r\n  \r\n", "para one.\n\npara two.\n\n\npara three.",
]);

const digits = [];
for (let n = 1; n <= 12; n++) digits.push("1234567890ab".slice(0, 0) + "9876543210987".slice(0, n));
for (let n = 1; n <= 12; n++) digits.push("x" + "1".repeat(n) + "y");
digits.push(" 42", "3.14159", "1,000,000", "2024-06-01", "v1.2.3", "0x1F", "1e-10", "-273.15",
            "$19.99", "100%", "٣٤٥٦", "१२३४", "１２３", "½ ⅓ ¾", "Ⅻ", "②③", "10:30pm", "+1 (555) 123-4567");
add("digits", digits);

add("contractions", [
  "don't", "DON'T", "Don'T", "I'm", "I'M", "you're", "YOU'RE", "we've", "WE'VE", "she'll", "SHE'LL",
  "he'd", "HE'D", "it's", "IT'S", "'s", "'S", "'twas", "rock'n'roll", "O'Neill", "y'all",
  "can't won't shouldn't", "'S'T'M'D", "l'amour", "l’amour", "it’s", "' s", "''", "'''re",
  "The cat's toy isn't here, they're sure we'll find it; I'd say you've looked.",
  "'ſ", "'K",  // case folding outside ASCII: llama.cpp only folds ASCII here
]);

add("punctuation", [
  "!", "!!!", "?!?!", "...", "---", "...\n", "(a)", "[[x]]", "{{}}", "<<>>", "@#$%^&*", "a,b;c:d",
  "«quoted»", "“smart quotes”", "—em dash—", "¿Qué?", "¡Hola!", "~~~", "___init___", "!!!\n\n\n",
  " ?", "a ?", "a . b , c", "Hello, world!", "wait...what?!", "(╯°□°)╯︵ ┻━┻", "¯\\_(ツ)_/¯",
  "* * *", "#!/bin/sh", "a->b=>c", "x != y && y <= z", "§ 3.2 ¶ 4", "©®™", "•·…", "👉 -> ✓",
]);

add("emoji", [
  "😀", "👍🏽", "👩‍👩‍👧‍👦", "🏳️‍🌈", "👨🏿‍💻", "❤️", "🇺🇸🇯🇵", "1️⃣", "emoji 😀 in text", "🙂🙃",
  "👋🏻👋🏼👋🏽👋🏾👋🏿", "🧑‍🤝‍🧑", "I ❤ NY", "🔥🔥🔥", "😀😀", " 😀", "😀 ", "🤖: beep", "☕️ time",
  "👩🏽‍🔬 and 👨‍🚀", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
]);

add("cjk", [
  "你好，世界！", "日本語のテキスト", "東京タワーは高い。", "한국어 텍스트입니다", "漢字かなカナ混じり文",
  "中文English混合", "我爱自然语言处理。", "この文章は日本語で書かれています。", "ｶﾀｶﾅ ＡＢＣ", "「引用」と『二重』",
  "第3章 第12節", "서울특별시 강남구", "机器学习（ML）", "今日は2024年6月1日です", "東京 大阪 京都",
]);

add("arabic", [
  "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "العدد ١٢٣٤٥", "سلام دنیا", "שלום עולם", "اللغة العربية جميلة.",
  "كتاب، قلم؛ ورقة؟", "abc مرحبا 123",
]);

add("devanagari", [
  "नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय", "संस्कृतम्", "मैं ठीक हूँ।", "১২৩ বাংলা", "தமிழ் மொழி", "ਪੰਜਾਬੀ",
]);

add("thai", ["สวัสดีครับ", "ภาษาไทย ง่ายมาก", "กรุงเทพมหานคร", "๑๒๓ บาท", "ไทย/English"]);

add("scripts", [
  "Ελληνικά γράμματα", "Привет, мир!", "ქართული", "Հայերեն", "ሰላም ዓለም", "Tiếng Việt có dấu",
  "İstanbul ıı İİ", "Straße ẞ", "e\u0301te\u0301", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "ﬁﬂ ligatures", "Ω≈ç√∫",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚", "ᚠᛇᚻ", "ꦲꦏ꧀ꦱꦫ",
]);

add("mixed", [
  "Hello 世界 مرحبا नमस्ते", "The word 東京 means Tokyo.", "Price: €12.50 / ¥1500 / ₹999",
  "résumé naïve café", "ПриветHello你好", "user42 wrote: 日本語OK!", "C++ 和 Python 是语言",
  "tokyo東京123", "abc١٢٣def", "emoji👍inside", "mixed\tscripts\nрусский\n中文",
]);

add("code", [
  "def f(x):\n    return x * 2\n",
  "for i in range(10):\n\tprint(i)\n",
  "#include <vector>\nint main() {\n  std::vector<int> v{1, 2, 3};\n  return v.size();\n}\n",
  "const add = (a, b) => a + b;\nconsole.log(add(1, 2));",
  "fn main() {\n    let s: &str = \"hi\";\n    println!(\"{s}\");\n}",
  "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  "if [ -f \"$HOME/.bashrc\" ]; then source ~/.bashrc; fi",
  "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}",
  "<div class=\"x\"><p>Hello &amp; bye</p></div>",
  "body { margin: 0; padding: 4px 8px; }",
  "name: test\nsteps:\n  - run: make\n  - run: make test\n",
  "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@example\\.com$",
  "all:\n\tgcc -O2 -o app main.c\n",
  "\\begin{equation} E = mc^2 \\end{equation}",
  "x = [i**2 for i in range(100) if i % 3 == 0]",
  "    indented_four()\n        indented_eight()\n",
  "public static void main(String[] args) { System.out.println(\"Hi\"); }",
  "/* comment */ // another\n/** doc */",
  "a=1;b=2;c=a+b;print(c)",
]);

add("urls", [
  "https://example.com/path?q=1&b=2#frag", "http://localhost:8080/v1/chat/completions",
  "user@example.com", "C:\\Users\\me\\file.txt", "/usr/local/bin/smolbot", "ftp://a.b/c.d",
  "www.example.org", "https://ja.wikipedia.org/wiki/東京", "mailto:a+b@c.io", "git@github.com:org/repo.git",
]);

add("markdown", [
  "# Title\n\nSome **bold** and _italic_ text.\n",
  "- item one\n- item two\n  - nested\n",
  "1. first\n2. second\n",
  "```python\nprint('hi')\n```\n",
  "| a | b |\n|---|---|\n| 1 | 2 |\n",
  "[link](https://example.com) and ![img](x.png)",
  "> quoted line\n> another\n",
  "Use `code` inline.",
  "***\n---\n___",
  "## Heading 2\n### Heading 3",
]);

// Chat-template strings: tokenized both with and without special-token parsing.
const chat = [
  "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
  "<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\n<|im_end|>\n",
  "<think>\n\n</think>\n",
  "<think>Let me think.</think>The answer is 4.",
  "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
  "<tool_response>{\"temp\": 21}</tool_response>",
  "<code>print(1)</code>",
  "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|start_header_id|>user<|end_header_id|>",
  "<|reserved_special_token_10|>", "<|im_start|><|im_start|>", "< |im_start|>", "<|im_start", "im_start|>",
  "text<|im_end|>text", "<|im_end|><|im_end|>\n", "<|im_start|>assistant\n<think>\nHmm.\n</think>\nHi!<|im_end|>",
  "<|im_start|>user\n/no_think Tell me a joke.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n",
  "<<|im_start|>>", "<think><think></think>", "<|IM_START|>", "<Think>",
];
add("special", chat, true);
add("special_as_text", chat, false);

// Vocabulary entries that BPE merges cannot build (found by encoding every entry with the HF
// port and ignore_merges=false; 596 of them). With ignore_merges on, HF emits them whole;
// llama.cpp's smaug-bpe mode merges. A sample, alone and in sentences:
add("unreachable", [" genellikle", "Ngoài", " söyledi", " hudeb", " ünlü", " olacaktır", " století", " Ayrıca", "аракт", "áhnout", " Králové", "ávací", " otev", "ประมาณ", " ситуации", " přiroz", " fırsat", "lıklar", " türlü", " kültür", " pravidel", " bulunduğu", " використ", " يناير", " tisíc", " jednodu", " çıktı", " электри", " трохи", " sektör", " hlavně", " staveb", ".:.:.:.:.:.:.:.:.:.:.:.:.:.:.:.:", " května", " itibaren", " yabancı", "sahuje", " siyasi", " kaldır", " Evropské"]);
add("unreachable_in_text", [
  "Bu kitap genellikle çok ünlü bir yazar tarafından yazıldı. Ayrıca, fırsat bulunduğu zaman okuyun.",
  "Hradec Králové leží v České republice; v květnu je tam hlavně teplo.",
  "Tiếng Việt là ngôn ngữ chính thức của Việt Nam.",
]);

// Seeded random strings over a pool that stresses the split: every character class the regex
// distinguishes (letters of several scripts, combining marks, digits of several systems,
// White_Space variants, \r and \n, apostrophes before contraction letters, symbols, emoji, ZWJ).
{
  let seed = 20240601;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pool = [
    "a", "Z", "s", "t", "l", "L", "e", "E", "m", "d", "v", "r", "é", "ß", "Ω", "ж", "字", "カ", "한",
    "ب", "क", "्", "ि", "ก", "ั", "\u0301", "0", "7", "٣", "१", "½", "Ⅻ", " ", " ", " ", "  ", "\t",
    "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2009", "\u0085", "\u000b", "'", "'", "’", "!", "?",
    ".", ",", "-", "_", "(", ")", "<", ">", "|", "/", "\\", "\"", "#", "$", "%", "&", "*", "+", "=",
    "@", "^", "`", "~", "€", "😀", "👍", "🏽", "\u200d", "\u200b", "\ufe0f", "🇯", "🇵", "\u0000",
  ];
  const random = [];
  for (let i = 0; i < 300; i++) {
    const n = 1 + rand(i < 200 ? 12 : 60);
    let s = "";
    for (let k = 0; k < n; k++) s += pool[rand(pool.length)];
    random.push(s);
  }
  add("random", random);
}

add("odd", [
  "\u0000", "a\u0000b", "\u0001\u0002", "\u007f", "\u200b", "a\u200bb", "\ufeffBOM", "soft\u00adhyphen",
  "\ue000", "\u0378", "\uffff", "\ufffd", "\u{10fffd}", "\u{1d11e}", "\u{e0041}", "a\u200d", "x\u0301",
]);

// Every printable ASCII character on its own and after a space.
const ascii = [];
for (let c = 0x21; c <= 0x7e; c++) ascii.push(String.fromCharCode(c));
add("ascii", ascii);
add("ascii_spaced", ascii.filter((_, i) => i % 3 === 0).map((c) => " " + c + c));

const prose =
  "The old lighthouse keeper climbed the spiral stairs each evening, counting steps he had " +
  "counted ten thousand times before. Storms came and went; ships passed without a glance. " +
  "Still, he polished the great lens until it gleamed, because someone, somewhere, might need " +
  "the light tonight. In 1987 a trawler named \"Margaret's Hope\" ran aground two miles south, " +
  "and every one of its 12 crew walked home safe.\n\n";
add("long", [
  prose.repeat(6),
  "a".repeat(1000),
  "ab".repeat(300),
  "1234567890".repeat(50),
  " ".repeat(500),
  "!".repeat(300),
  "\n".repeat(200),
  "日本語".repeat(200),
  "😀".repeat(100),
  "word ".repeat(300),
  corpus.filter((e) => e.name.startsWith("code/")).map((e) => e.text).join("\n"),
  "Sehr geehrte Damen und Herren, wir möchten Ihnen mitteilen, dass die Lieferung am " +
    "Donnerstag erfolgt. Mit freundlichen Grüßen. ".repeat(5),
]);

fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ comment: "Generated by scripts/oracle/tokenizer-corpus.mjs; ids in golden.json.", entries: corpus }, null, 1) + "\n");
console.log(`${out}: ${corpus.length} strings`);
