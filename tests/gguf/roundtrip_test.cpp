// Writer -> reader round trips for every value type, tensor layout and alignment rules, and the
// typed accessors' error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>

#include "smol/gguf.h"

namespace smol::gguf {
namespace {

File reparse(const Writer& w) {
  Result<std::vector<uint8_t>> bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok()) << bytes.error();
  Result<File> f = File::from_bytes(std::move(*bytes));
  EXPECT_TRUE(f.ok()) << f.error();
  return std::move(*f);
}

TEST(GgufRoundTrip, ScalarsOfEveryType) {
  Writer w;
  w.set_u8("u8", 200);
  w.set_i8("i8", -100);
  w.set_u16("u16", 60000);
  w.set_i16("i16", -30000);
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -2000000000);
  w.set_f32("f32", 1e-6f);
  w.set_bool("bool_t", true);
  w.set_bool("bool_f", false);
  w.set_string("string", "h\xc3\xa9llo");
  w.set_string("empty", "");
  w.set_u64("u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("i64", std::numeric_limits<int64_t>::min());
  w.set_f64("f64", 3.141592653589793);
  File f = reparse(w);

  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 14u);
  const char* order[] = {"u8",     "i8",     "u16",    "i16",   "u32", "i32", "f32",
                         "bool_t", "bool_f", "string", "empty", "u64", "i64", "f64"};
  for (size_t i = 0; i < 14; ++i) EXPECT_EQ(f.metadata()[i].key, order[i]);

  EXPECT_EQ(*f.get_u8("u8"), 200);
  EXPECT_EQ(f.find("i8")->as_int(), -100);
  EXPECT_EQ(*f.get_u16("u16"), 60000);
  EXPECT_EQ(f.find("i16")->as_int(), -30000);
  EXPECT_EQ(*f.get_u32("u32"), 4000000000u);
  EXPECT_EQ(*f.get_i32("i32"), -2000000000);
  EXPECT_EQ(*f.get_f32("f32"), 1e-6f);
  EXPECT_TRUE(*f.get_bool("bool_t"));
  EXPECT_FALSE(*f.get_bool("bool_f"));
  EXPECT_EQ(*f.get_string("string"), "h\xc3\xa9llo");
  EXPECT_EQ(*f.get_string("empty"), "");
  EXPECT_EQ(*f.get_u64("u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*f.get_i64("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*f.get_f64("f64"), 3.141592653589793);

  // Lenient accessors widen across integer / float types.
  EXPECT_EQ(*f.get_int("u32"), 4000000000);
  EXPECT_EQ(*f.get_int("i8"), -100);
  EXPECT_EQ(*f.get_float("f32"), static_cast<double>(1e-6f));
  EXPECT_EQ(*f.get_float("f64"), 3.141592653589793);
  EXPECT_EQ(f.find("u8")->as_uint(), 200u);
  EXPECT_EQ(f.find("i8")->as_uint(), std::nullopt);
}

TEST(GgufRoundTrip, AccessorErrorsNameKeyAndTypes) {
  Writer w;
  w.set_i32("smollm3.block_count", 36);
  w.set_u64("big", std::numeric_limits<uint64_t>::max());
  std::vector<int32_t> ids = {1, 2};
  w.set_array("ids", std::span<const int32_t>(ids));
  File f = reparse(w);

  Result<uint32_t> r = f.get_u32("smollm3.block_count");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "gguf: key 'smollm3.block_count' has type i32, expected u32");
  EXPECT_EQ(*f.get_int("smollm3.block_count"), 36);
  EXPECT_EQ(f.get_u32("nope").error(), "gguf: key 'nope' not found");
  EXPECT_EQ(f.get_int("big").error(),
            "gguf: key 'big' = 18446744073709551615 does not fit in int64");
  EXPECT_EQ(f.get_string_array("ids").error(),
            "gguf: key 'ids' has type array of i32, expected array of string");
  EXPECT_EQ(f.get_string("ids").error(), "gguf: key 'ids' has type array of i32, expected string");
  EXPECT_EQ(f.get_float("ids").error(),
            "gguf: key 'ids' has type array of i32, expected f32 or f64");
  EXPECT_EQ(f.get_array("big").error(), "gguf: key 'big' has type u64, expected array");
  EXPECT_FALSE(f.has("nope"));
  EXPECT_TRUE(f.has("ids"));
}

TEST(GgufRoundTrip, ArraysOfEveryType) {
  Writer w;
  std::vector<uint8_t> u8 = {0, 1, 255};
  std::vector<int8_t> i8 = {-128, 0, 127};
  std::vector<uint16_t> u16 = {0, 65535};
  std::vector<int16_t> i16 = {-32768, 32767};
  std::vector<uint32_t> u32 = {7, 4294967295u};
  std::vector<int32_t> i32 = {-1, 128011, 128012};
  std::vector<float> f32 = {0.5f, -2.25f, 1e30f};
  bool bools[] = {true, false, true};
  std::vector<uint64_t> u64 = {1, uint64_t{1} << 63};
  std::vector<int64_t> i64 = {-5, int64_t{1} << 40};
  std::vector<double> f64 = {1.0 / 3.0};
  std::vector<std::string> strs = {"\xc4\xa0the", "", "<think>", std::string(1000, 'z')};
  std::vector<std::string_view> views = {"a b", "c d"};
  std::vector<int32_t> empty;
  w.set_array("u8", std::span<const uint8_t>(u8));
  w.set_array("i8", std::span<const int8_t>(i8));
  w.set_array("u16", std::span<const uint16_t>(u16));
  w.set_array("i16", std::span<const int16_t>(i16));
  w.set_array("u32", std::span<const uint32_t>(u32));
  w.set_array("i32", std::span<const int32_t>(i32));
  w.set_array("f32", std::span<const float>(f32));
  w.set_array("bool", std::span<const bool>(bools));
  w.set_array("u64", std::span<const uint64_t>(u64));
  w.set_array("i64", std::span<const int64_t>(i64));
  w.set_array("f64", std::span<const double>(f64));
  w.set_string_array("strings", strs);
  w.set_string_array("merges", views);
  w.set_array("empty", std::span<const int32_t>(empty));
  File f = reparse(w);

  auto ints = [&](const char* key) { return *f.get_int_array(key); };
  EXPECT_EQ(ints("u8"), (std::vector<int64_t>{0, 1, 255}));
  EXPECT_EQ(ints("i8"), (std::vector<int64_t>{-128, 0, 127}));
  EXPECT_EQ(ints("u16"), (std::vector<int64_t>{0, 65535}));
  EXPECT_EQ(ints("i16"), (std::vector<int64_t>{-32768, 32767}));
  EXPECT_EQ(*f.get_u32_array("u32"), u32);
  EXPECT_EQ(*f.get_i32_array("i32"), i32);
  EXPECT_EQ(*f.get_f32_array("f32"), f32);
  EXPECT_EQ(ints("i64"), i64);
  const Value* b = f.find("bool");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->elem_type(), ValueType::BOOL);
  ASSERT_EQ(b->count(), 3u);
  EXPECT_EQ(b->raw()[0], 1);
  EXPECT_EQ(b->raw()[1], 0);
  const Value* u = f.find("u64");
  EXPECT_EQ(u->elem_type(), ValueType::U64);
  EXPECT_EQ(u->int_at(0), 1);
  uint64_t top = 0;
  std::memcpy(&top, u->raw().data() + 8, 8);
  EXPECT_EQ(top, uint64_t{1} << 63);
  EXPECT_EQ(f.find("f64")->float_at(0), 1.0 / 3.0);
  EXPECT_EQ(f.find("f32")->float_at(1), -2.25);

  std::span<const std::string_view> s = *f.get_string_array("strings");
  ASSERT_EQ(s.size(), strs.size());
  for (size_t i = 0; i < strs.size(); ++i) EXPECT_EQ(s[i], strs[i]);
  std::span<const std::string_view> m = *f.get_string_array("merges");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1], "c d");
  EXPECT_EQ(f.find("empty")->count(), 0u);
  EXPECT_TRUE(f.get_i32_array("empty")->empty());
  EXPECT_EQ(f.get_i32_array("u32").error(),
            "gguf: key 'u32' has type array of u32, expected array of i32");
  EXPECT_FALSE(f.get_int_array("f32").ok());
}

TEST(GgufRoundTrip, SettingAKeyAgainReplacesItInPlace) {
  Writer w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_string("a", "now a string");
  EXPECT_EQ(w.n_kv(), 2u);
  File f = reparse(w);
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].key, "a");
  EXPECT_EQ(*f.get_string("a"), "now a string");
}

TEST(GgufRoundTrip, SetValueCopiesEveryType) {
  Writer src;
  src.set_u8("u8", 9);
  src.set_i8("i8", -9);
  src.set_u16("u16", 900);
  src.set_i16("i16", -900);
  src.set_u32("u32", 90000);
  src.set_i32("i32", -90000);
  src.set_f32("f32", 0.25f);
  src.set_bool("bool", true);
  src.set_string("string", "s");
  src.set_u64("u64", std::numeric_limits<uint64_t>::max());
  src.set_i64("i64", -9000000000);
  src.set_f64("f64", 0.125);
  std::vector<std::string> strs = {"x", "yz"};
  src.set_string_array("strs", strs);
  std::vector<float> fl = {1.5f, 2.5f};
  src.set_array("fl", std::span<const float>(fl));
  File a = reparse(src);

  Writer copy;
  for (const KeyValue& kv : a.metadata()) copy.set_value(kv.key, kv.value);
  File b = reparse(copy);
  std::span<const uint8_t> ba = a.bytes();
  std::span<const uint8_t> bb = b.bytes();
  EXPECT_TRUE(std::equal(ba.begin(), ba.end(), bb.begin(), bb.end()));
}

TEST(GgufRoundTrip, TensorsAreAlignedZeroCopyViews) {
  Writer w;
  w.set_string("general.architecture", "smollm3");
  std::vector<float> norm(48);
  std::iota(norm.begin(), norm.end(), 0.0f);
  const int64_t ne_norm[] = {48};
  ASSERT_TRUE(w.add_tensor("norm", TensorType::F32, ne_norm,
                           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(norm.data()),
                                                    norm.size() * 4))
                  .ok());
  const int64_t ne_q[] = {512, 3};
  ASSERT_TRUE(w.add_tensor("q", TensorType::Q4_K, ne_q, [](std::span<uint8_t> out) -> Status {
                 for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(i * 7);
                 return {};
               }).ok());
  const int64_t ne_h[] = {32, 2, 3, 4};
  ASSERT_TRUE(w.add_tensor("h", TensorType::F16, ne_h, [](std::span<uint8_t> out) -> Status {
                 std::fill(out.begin(), out.end(), 0xab);
                 return {};
               }).ok());
  File f = reparse(w);

  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  ASSERT_EQ(f.tensors().size(), 3u);
  const TensorInfo& n = f.tensors()[0];
  EXPECT_EQ(n.name, "norm");
  EXPECT_EQ(n.offset, 0u);
  EXPECT_EQ(n.n_bytes, 192u);
  EXPECT_EQ(n.n_dims, 1u);
  EXPECT_EQ(n.data, f.bytes().data() + f.data_offset());
  EXPECT_EQ(std::memcmp(n.data, norm.data(), 192), 0);

  const TensorInfo* q = f.find_tensor("q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->offset, 192u);  // 192 is already a multiple of 32
  EXPECT_EQ(q->n_bytes, 2u * 3 * 144);
  EXPECT_EQ(q->n_rows(), 3);
  EXPECT_EQ(q->n_elements, 1536u);
  EXPECT_EQ(q->data[5], uint8_t(35));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q->data) % 32, 0u) << "tensor data aligned in memory";
  EXPECT_EQ(q->type, TensorType::Q4_K);

  const TensorInfo* h = f.find_tensor("h");
  EXPECT_EQ(h->offset, 192u + 864u);  // 864 = 27 * 32
  EXPECT_EQ(h->n_dims, 4u);
  EXPECT_EQ(h->ne[3], 4);
  EXPECT_EQ(h->n_bytes, 32u * 2 * 3 * 4 * 2);
  EXPECT_EQ(h->data[h->n_bytes - 1], 0xab);
  EXPECT_EQ(f.file_size(), f.data_offset() + h->offset + h->n_bytes);
  EXPECT_EQ(f.find_tensor("missing"), nullptr);

  // The views survive moving the File.
  const uint8_t* before = q->data;
  File moved = std::move(f);
  EXPECT_EQ(moved.find_tensor("q")->data, before);
}

TEST(GgufRoundTrip, CustomAlignmentAndPadding) {
  Writer w;
  w.set_u32("general.alignment", 64);
  std::vector<uint8_t> a(4 * 3, 1);
  const int64_t ne[] = {3};
  ASSERT_TRUE(w.add_tensor("a", TensorType::F32, ne, a).ok());
  ASSERT_TRUE(w.add_tensor("b", TensorType::F32, ne, a).ok());
  File f = reparse(w);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.tensors()[1].offset, 64u);

  Writer bad;
  bad.set_u32("general.alignment", 24);
  Result<std::vector<uint8_t>> r = bad.to_bytes();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("24 is not a power of two"), std::string::npos);
}

TEST(GgufRoundTrip, WriterRejectsBadTensors) {
  Writer w;
  const int64_t ne[] = {100};
  std::vector<uint8_t> data(400);
  EXPECT_TRUE(w.add_tensor("ok", TensorType::F32, ne, data).ok());
  Status dup = w.add_tensor("ok", TensorType::F32, ne, data);
  EXPECT_EQ(dup.error(), "gguf: duplicate tensor name 'ok'");
  Status block =
      w.add_tensor("q", TensorType::Q4_K, ne, [](std::span<uint8_t>) -> Status { return {}; });
  EXPECT_NE(block.error().find("ne[0] = 100 is not a multiple of the Q4_K block size 256"),
            std::string::npos);
  Status size = w.add_tensor("s", TensorType::F32, ne, std::span<const uint8_t>(data).first(8));
  EXPECT_NE(size.error().find("data has 8 bytes, shape and type need 400"), std::string::npos);
  Status name = w.add_tensor(std::string(64, 'n'), TensorType::F32, ne, data);
  EXPECT_FALSE(name.ok());
  const int64_t five[] = {1, 1, 1, 1, 1};
  EXPECT_FALSE(w.add_tensor("five", TensorType::F32, five, data).ok());
  EXPECT_EQ(w.n_tensors(), 1u);
}

TEST(GgufRoundTrip, FillErrorAbortsAndRemovesFile) {
  Writer w;
  const int64_t ne[] = {8};
  ASSERT_TRUE(w.add_tensor("t", TensorType::F32, ne, [](std::span<uint8_t>) -> Status {
                 return Error{"rng exploded"};
               }).ok());
  std::filesystem::path path = std::filesystem::temp_directory_path() / "smol_gguf_fill_err.gguf";
  Status st = w.write(path.string());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "gguf: filling tensor 't': rng exploded");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(GgufRoundTrip, WriteThenOpenMapped) {
  Writer w;
  w.set_string("general.architecture", "smollm3");
  const int64_t ne[] = {256, 4};
  ASSERT_TRUE(
      w.add_tensor("token_embd.weight", TensorType::Q6_K, ne, [](std::span<uint8_t> out) -> Status {
         out[0] = 42;
         return {};
       }).ok());
  std::filesystem::path path = std::filesystem::temp_directory_path() / "smol_gguf_rt.gguf";
  ASSERT_TRUE(w.write(path.string()).ok());
  Result<File> f = File::open(path.string());
  std::filesystem::remove(path);  // the mapping stays valid after unlink
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(*f->get_string("general.architecture"), "smollm3");
  const TensorInfo* t = f->find_tensor("token_embd.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->n_bytes, 4u * 210);
  EXPECT_EQ(t->data[0], 42);
  EXPECT_EQ(t->data[1], 0);
  std::vector<uint8_t> mem = *w.to_bytes();
  EXPECT_TRUE(std::equal(mem.begin(), mem.end(), f->bytes().begin(), f->bytes().end()));
}

TEST(GgufRoundTrip, VersionTwoIsAccepted) {
  Writer w;
  w.set_u32("x", 1);
  std::vector<uint8_t> bytes = *w.to_bytes();
  bytes[4] = 2;
  Result<File> f = File::from_bytes(bytes);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->version(), 2u);
}

TEST(GgufTypes, TraitsAndSizes) {
  EXPECT_EQ(type_traits(TensorType::Q4_K)->block_bytes, 144u);
  EXPECT_EQ(type_traits(TensorType::Q6_K)->block_bytes, 210u);
  EXPECT_EQ(type_traits(TensorType::Q8_0)->block_bytes, 34u);
  EXPECT_EQ(type_traits(TensorType::Q8_K)->block_bytes, 292u);
  EXPECT_EQ(type_traits(TensorType::Q5_K)->block_bytes, 176u);
  EXPECT_EQ(type_traits(TensorType::BF16)->block_bytes, 2u);
  EXPECT_EQ(type_traits(static_cast<TensorType>(4)), nullptr);
  EXPECT_EQ(type_name(TensorType::Q6_K), "Q6_K");
  EXPECT_EQ(type_name(static_cast<TensorType>(1000)), "unknown");
  EXPECT_EQ(type_from_name("Q4_K"), TensorType::Q4_K);
  EXPECT_EQ(type_from_name("Q4_Z"), std::nullopt);
  for (uint32_t id = 0; id < 64; ++id) {
    const TypeTraits* t = type_traits(static_cast<TensorType>(id));
    if (t) {
      EXPECT_EQ(type_from_name(t->name), static_cast<TensorType>(id));
    }
  }
  // Sizes from the SmolLM3 facts: a 2048-row of Q4_K is 1152 B, an 11008-row of Q6_K 9030 B.
  const int64_t q[] = {2048, 512};
  EXPECT_EQ(*tensor_bytes(TensorType::Q4_K, q), 589824u);
  const int64_t d[] = {11008, 1};
  EXPECT_EQ(*tensor_bytes(TensorType::Q6_K, d), 9030u);
  const int64_t e[] = {2048, 128256};
  EXPECT_EQ(*tensor_bytes(TensorType::Q6_K, e), 128256u * 1680);
  EXPECT_EQ(value_type_name(ValueType::STRING), "string");
  EXPECT_EQ(value_type_name(static_cast<ValueType>(99)), "unknown");
  EXPECT_EQ(value_type_size(ValueType::F64), 8u);
}

}  // namespace
}  // namespace smol::gguf
