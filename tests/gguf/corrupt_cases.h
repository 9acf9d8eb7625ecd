// One hand-built corrupt GGUF image per failure mode the reader must report, with the substring
// its error message must contain. Shared by the library test and the gguf-inspect test.
#pragma once

#include <string>
#include <vector>

#include "byte_builder.h"

namespace smol::gguf::testing {

struct CorruptCase {
  const char* name;  // also the test file name
  std::vector<uint8_t> bytes;
  std::string expected;  // substring of the error message
};

// A valid file with one F32 tensor [32 x 2] = 256 bytes, for reference: the cases below differ
// from it in one field each.
inline std::vector<uint8_t> valid_image() {
  return Bytes()
      .header(1, 1)
      .kv_str("general.architecture", "smollm3")
      .tensor("t", {32, 2}, 0, 0)
      .pad(32)
      .zeros(256)
      .bytes();
}

inline std::vector<CorruptCase> corrupt_cases() {
  constexpr uint32_t kF32 = 0, kQ4_K = 12;
  std::vector<CorruptCase> c;
  c.push_back({"bad_magic", Bytes().raw("GGUX").u32(3).i64(0).i64(0).bytes(),
               "magic at offset 0: bad magic: expected \"GGUF\" (47 47 55 46), found 47 47 55 58"});
  c.push_back({"unknown_version", Bytes().header(0, 0, 7).bytes(),
               "version at offset 4: unsupported version 7"});
  c.push_back({"version_1", Bytes().header(0, 0, 1).bytes(), "unsupported version 1"});
  c.push_back({"big_endian", Bytes().header(0, 0, 0x03000000).bytes(), "big-endian"});
  c.push_back({"empty_file", {}, "magic at offset 0: truncated header: file is 0 bytes"});
  c.push_back({"truncated_header", Bytes().raw("GGUF").u32(3).u32(0).bytes(),
               "n_tensors (truncated header) at offset 8: truncated: needs 8 bytes, 4 remain"});
  c.push_back({"negative_n_tensors", Bytes().header(-1, 0).bytes(),
               "n_tensors at offset 8: negative count -1"});
  c.push_back({"huge_n_kv", Bytes().header(0, int64_t{1} << 60).zeros(64).bytes(),
               "n_kv at offset 16: count 1152921504606846976 cannot fit"});
  c.push_back({"huge_n_tensors", Bytes().header(int64_t{1} << 40, 0).zeros(64).bytes(),
               "n_tensors at offset 8: count 1099511627776 cannot fit"});
  c.push_back({"key_length_past_eof",
               Bytes().header(0, 1).u64(uint64_t{1} << 40).raw("general.x").zeros(16).bytes(),
               "key of kv #0 at offset 24: string length 1099511627776 runs past end of file"});
  c.push_back({"string_value_past_eof",
               Bytes().header(0, 1).str("general.name").u32(8).u64(1000).raw("abc").bytes(),
               "key 'general.name' value at offset 48: string length 1000 runs past end of file"});
  c.push_back({"truncated_value",
               Bytes().header(0, 1).str("general.file_type").u32(4).u8(1).bytes(),
               "key 'general.file_type' value at offset 53: truncated: needs 4 bytes, 1 remain"});
  c.push_back({"huge_array_count",
               Bytes().header(0, 1).str("a").u32(9).u32(5).u64(uint64_t{1} << 62).zeros(64).bytes(),
               "key 'a' at offset 41: array count 4611686018427387904 of i32 does not fit"});
  c.push_back(
      {"huge_string_array_count",
       Bytes().header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(1000).zeros(64).bytes(),
       "array count 1000 of string does not fit"});
  c.push_back(
      {"string_array_element_past_eof",
       Bytes().header(0, 1).str("tok").u32(9).u32(8).u64(2).str("a").u64(99).zeros(8).bytes(),
       "element 1 of key 'tok' at offset 60: string length 99 runs past end of file"});
  c.push_back({"unknown_value_type", Bytes().header(0, 1).str("k").u32(13).u32(0).bytes(),
               "key 'k' at offset 33: unknown value type 13"});
  c.push_back({"unknown_array_elem_type",
               Bytes().header(0, 1).str("k").u32(9).u32(77).u64(0).bytes(),
               "key 'k' at offset 37: unknown array element type 77"});
  c.push_back({"nested_array", Bytes().header(0, 1).str("k").u32(9).u32(9).u64(0).bytes(),
               "arrays of arrays are not supported"});
  c.push_back({"bad_bool", Bytes().header(0, 1).str("k").u32(7).u8(2).zeros(8).bytes(),
               "key 'k' at offset 37: bool value 2 is not 0 or 1"});
  c.push_back(
      {"duplicate_key",
       Bytes().header(0, 2).kv_u32("general.file_type", 1).kv_u32("general.file_type", 2).bytes(),
       "key 'general.file_type' at offset 57: duplicate key (first at offset 24)"});
  c.push_back({"alignment_not_power_of_two",
               Bytes().header(0, 1).kv_u32("general.alignment", 48).bytes(),
               "key 'general.alignment' at offset 53: alignment 48 is not a power of two"});
  c.push_back({"alignment_zero", Bytes().header(0, 1).kv_u32("general.alignment", 0).bytes(),
               "alignment 0 is not a power of two"});
  c.push_back(
      {"alignment_wrong_type", Bytes().header(0, 1).kv_i32("general.alignment", 32).bytes(),
       "key 'general.alignment' at offset 49: general.alignment has type i32, expected u32"});
  c.push_back(
      {"n_dims_5",
       Bytes().header(1, 0).tensor("t", {32, 1, 1, 1, 1}, kF32, 0).pad(32).zeros(128).bytes(),
       "tensor 't' at offset 33: n_dims 5 out of range 1..4"});
  c.push_back({"n_dims_0", Bytes().header(1, 0).tensor("t", {}, kF32, 0).pad(32).zeros(32).bytes(),
               "tensor 't' at offset 33: n_dims 0 out of range 1..4"});
  c.push_back({"negative_dim",
               Bytes().header(1, 0).tensor("t", {32, -3}, kF32, 0).pad(32).zeros(128).bytes(),
               "tensor 't' at offset 45: dimension ne[1] = -3 must be >= 1"});
  c.push_back({"zero_dim",
               Bytes().header(1, 0).tensor("t", {0, 4}, kF32, 0).pad(32).zeros(128).bytes(),
               "tensor 't' at offset 37: dimension ne[0] = 0 must be >= 1"});
  c.push_back({"dim_product_overflow",
               Bytes()
                   .header(1, 0)
                   .tensor("t", {int64_t{1} << 32, int64_t{1} << 32}, kF32, 0)
                   .pad(32)
                   .zeros(128)
                   .bytes(),
               "tensor 't' at offset 33: element count overflows at ne[1] = 4294967296"});
  c.push_back(
      {"byte_size_overflow",
       Bytes().header(1, 0).tensor("t", {int64_t{1} << 62}, kF32, 0).pad(32).zeros(128).bytes(),
       "tensor 't' at offset 33: byte size overflows"});
  c.push_back({"unknown_tensor_type",
               Bytes().header(1, 0).tensor("t", {32, 2}, 99, 0).pad(32).zeros(256).bytes(),
               "tensor 't' at offset 53: unknown tensor type 99"});
  c.push_back({"retired_tensor_type",
               Bytes().header(1, 0).tensor("t", {32, 2}, 4, 0).pad(32).zeros(256).bytes(),
               "unknown tensor type 4"});
  c.push_back(
      {"ne0_not_block_multiple",
       Bytes().header(1, 0).tensor("t", {100, 2}, kQ4_K, 0).pad(32).zeros(512).bytes(),
       "tensor 't' at offset 33: ne[0] = 100 is not a multiple of the Q4_K block size 256"});
  c.push_back({"misaligned_tensor_offset",
               Bytes()
                   .header(2, 0)
                   .tensor("a", {8}, kF32, 0)
                   .tensor("b", {8}, kF32, 16)
                   .pad(32)
                   .zeros(64)
                   .bytes(),
               "tensor 'b' at offset 82: data offset 16 is not a multiple of the alignment 32"});
  c.push_back({"tensor_data_past_eof",
               Bytes().header(1, 0).tensor("t", {32, 2}, kF32, 0).pad(32).zeros(255).bytes(),
               "tensor 't' at offset 24: data [0, +256) runs past end of file (data section at 96 "
               "holds 255 bytes)"});
  c.push_back(
      {"tensor_offset_past_eof",
       Bytes().header(1, 0).tensor("t", {8}, kF32, uint64_t{1} << 63).pad(32).zeros(32).bytes(),
       "tensor 't' at offset 24: data [9223372036854775808, +32) runs past end of file"});
  c.push_back({"overlapping_tensors",
               Bytes()
                   .header(2, 0)
                   .tensor("a", {64}, kF32, 0)
                   .tensor("b", {8}, kF32, 224)
                   .pad(32)
                   .zeros(256)
                   .bytes(),
               "tensor 'b' at offset 57: data [224, 256) overlaps tensor 'a' [0, 256)"});
  c.push_back({"duplicate_tensor_name",
               Bytes()
                   .header(2, 0)
                   .tensor("blk.0.attn_q.weight", {8}, kF32, 0)
                   .tensor("blk.0.attn_q.weight", {8}, kF32, 32)
                   .pad(32)
                   .zeros(64)
                   .bytes(),
               "tensor 'blk.0.attn_q.weight' at offset 75: duplicate tensor name (first is "
               "tensor #0)"});
  c.push_back(
      {"tensor_name_too_long",
       Bytes().header(1, 0).tensor(std::string(64, 'x'), {8}, kF32, 0).pad(32).zeros(32).bytes(),
       "name of tensor #0 at offset 24: name of 64 bytes exceeds the 63-byte limit"});
  c.push_back({"truncated_tensor_info",
               Bytes().header(1, 0).str("t").u32(4).i64(32).i64(1).i64(1).bytes(),
               "tensor 't' ne[3] at offset 61: truncated: needs 8 bytes, 0 remain"});
  return c;
}

}  // namespace smol::gguf::testing
