// A test oracle: runs a .tflite file through TensorFlow Lite Micro exactly as Edge Impulse's C++ SDK
// drives it on a device (an op resolver, 16-byte-aligned arena, AllocateTensors(true), int8 input
// quantized by the SDK's own pre_cast_quantize, int8 output dequantized as (q - zero_point) * scale).
//
//   tflm-runner MODEL.tflite                      -> one JSON line: arena_used_bytes and the graph
//   tflm-runner MODEL.tflite ROWS.f32 N OUT.f32   -> also runs N float32 rows, writes N x classes floats
//   tflm-runner --record MODEL.tflite             -> the RecordingMicroAllocator's breakdown (debugging
//                                                   the RAM model; its own records make the total larger)
//   tflm-runner --quantize ROWS.f32 SCALE ZERO_POINT OUT.i8
//                                                 -> the SDK's pre_cast_quantize on every float
//   tflm-runner --trace MODEL.tflite              -> every persistent (tail) allocation in order, as
//                                                   "size alignment", then the sizes of the allocator's
//                                                   own objects and the head: what src/export/tflite/tflm-arena.ts
//                                                   models
//
// Built from ../shared/reference/ei-sdk-tflm by tools/tflm/Makefile (driven by test/helpers/tflm.ts); never part of the shipped package.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "edge-impulse-sdk/classifier/ei_quantize.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/micro_interpreter.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/single_arena_buffer_allocator.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/recording_micro_interpreter.h"
#include "edge-impulse-sdk/tensorflow/lite/schema/schema_generated.h"

namespace {

// Large enough for every model this project makes; a multiple of 16 so the arena's end is aligned the
// way a device's ALIGN(16) static arena of a planned size is.
constexpr size_t kArenaSize = 8 * 1024 * 1024;
alignas(16) uint8_t g_arena[kArenaSize];

int Fail(const char* what, const char* detail) {
  std::fprintf(stderr, "tflm-runner: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

bool ReadFile(const char* path, std::vector<uint8_t>* out) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  out->resize(size > 0 ? static_cast<size_t>(size) : 0);
  size_t got = size > 0 ? std::fread(out->data(), 1, out->size(), f) : 0;
  std::fclose(f);
  return got == out->size();
}

const char* TypeName(TfLiteType t) {
  switch (t) {
    case kTfLiteFloat32: return "float32";
    case kTfLiteInt8: return "int8";
    case kTfLiteUInt8: return "uint8";
    case kTfLiteInt32: return "int32";
    default: return "other";
  }
}

// This TFLM strips its log messages, so an operator the resolver lacks would fail without a word.
bool CheckOperators(const tflite::Model* model, const tflite::MicroOpResolver& resolver) {
  const auto* codes = model->operator_codes();
  for (size_t i = 0; codes && i < codes->size(); i++) {
    const auto* code = codes->Get(i);
    int builtin = std::max<int>(code->deprecated_builtin_code(), code->builtin_code());
    if (resolver.FindOp(static_cast<tflite::BuiltinOperator>(builtin)) == nullptr) {
      std::fprintf(stderr, "tflm-runner: operator %s (%d) is not in the runner's resolver (the exporter's operators)\n",
                   tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(builtin)), builtin);
      return false;
    }
  }
  return true;
}

void PrintRecord(const tflite::RecordingMicroAllocator& a, tflite::RecordedAllocationType type, const char* name) {
  tflite::RecordedAllocation r = a.GetRecordedAllocation(type);
  std::printf("\"%s\":{\"requested\":%zu,\"used\":%zu,\"count\":%zu},", name, r.requested_bytes, r.used_bytes, r.count);
}

int Record(const tflite::Model* model, const tflite::MicroOpResolver& resolver) {
  tflite::RecordingMicroInterpreter interpreter(model, resolver, g_arena, kArenaSize);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return Fail("AllocateTensors failed", nullptr);
  const auto& a = interpreter.GetMicroAllocator();
  using T = tflite::RecordedAllocationType;
  std::printf("{");
  PrintRecord(a, T::kTfLiteEvalTensorData, "eval_tensors");
  PrintRecord(a, T::kPersistentTfLiteTensorData, "persistent_tensors");
  PrintRecord(a, T::kPersistentTfLiteTensorQuantizationData, "persistent_quantization");
  PrintRecord(a, T::kPersistentBufferData, "persistent_buffers");
  PrintRecord(a, T::kTfLiteTensorVariableBufferData, "variable_buffers");
  PrintRecord(a, T::kNodeAndRegistrationArray, "node_and_registrations");
  PrintRecord(a, T::kOpData, "op_data");
  const auto* s = a.GetSimpleMemoryAllocator();
  std::printf("\"head\":%zu,\"tail\":%zu,\"used\":%zu,\"recording_overhead\":%zu,\"pointer_bytes\":%zu}\n",
              s->GetNonPersistentUsedBytes(), s->GetPersistentUsedBytes(), s->GetUsedBytes(),
              tflite::RecordingMicroAllocator::GetDefaultTailUsage(), sizeof(void*));
  return 0;
}

// Logs each tail allocation; the allocator objects themselves live outside the arena here, so their
// sizes are printed separately (sizeof/alignof below) for the model to add.
class TracingArenaAllocator : public tflite::SingleArenaBufferAllocator {
 public:
  using tflite::SingleArenaBufferAllocator::SingleArenaBufferAllocator;
  uint8_t* AllocatePersistentBuffer(size_t size, size_t alignment) override {
    std::printf("tail %zu %zu\n", size, alignment);
    return tflite::SingleArenaBufferAllocator::AllocatePersistentBuffer(size, alignment);
  }
};

int Trace(const tflite::Model* model, const tflite::MicroOpResolver& resolver) {
  static TracingArenaAllocator arena(g_arena, kArenaSize);
  static tflite::GreedyMemoryPlanner planner;
  tflite::MicroAllocator* allocator = tflite::MicroAllocator::Create(&arena, &planner);
  tflite::MicroInterpreter interpreter(model, resolver, allocator);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return Fail("AllocateTensors failed", nullptr);
  std::printf("sizeof SingleArenaBufferAllocator %zu %zu\n", sizeof(tflite::SingleArenaBufferAllocator),
              alignof(tflite::SingleArenaBufferAllocator));
  std::printf("sizeof GreedyMemoryPlanner %zu %zu\n", sizeof(tflite::GreedyMemoryPlanner), alignof(tflite::GreedyMemoryPlanner));
  std::printf("head %zu\ntail_total %zu\n", arena.GetNonPersistentUsedBytes(), arena.GetPersistentUsedBytes());
  return 0;
}

}  // namespace

// The device's input quantization on its own, so the tests can compare ours value by value.
int Quantize(char** argv) {
  std::vector<uint8_t> bytes;
  if (!ReadFile(argv[0], &bytes)) return Fail("cannot read", argv[0]);
  float scale = std::strtof(argv[1], nullptr);
  int32_t zero_point = static_cast<int32_t>(std::strtol(argv[2], nullptr, 10));
  size_t n = bytes.size() / sizeof(float);
  const float* values = reinterpret_cast<const float*>(bytes.data());
  std::vector<int8_t> q(n);
  for (size_t i = 0; i < n; i++) q[i] = static_cast<int8_t>(pre_cast_quantize(values[i], scale, zero_point, true));
  FILE* out = std::fopen(argv[3], "wb");
  if (!out || std::fwrite(q.data(), 1, n, out) != n) return Fail("cannot write", argv[3]);
  std::fclose(out);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "--quantize") == 0) return Quantize(argv + 2);
  bool record = argc > 1 && std::strcmp(argv[1], "--record") == 0;
  bool trace = argc > 1 && std::strcmp(argv[1], "--trace") == 0;
  if (record || trace) { argv++; argc--; }
  if (argc != 2 && argc != 5) {
    std::fprintf(stderr, "usage: tflm-runner [--record|--trace] MODEL.tflite [ROWS.f32 N OUT.f32] | --quantize ROWS.f32 SCALE ZERO_POINT OUT.i8\n");
    return 2;
  }
  std::vector<uint8_t> model_bytes;
  if (!ReadFile(argv[1], &model_bytes)) return Fail("cannot read", argv[1]);
  // TFLM reads the flatbuffer in place; keep it 16-byte aligned like a device's model array.
  std::vector<uint8_t> aligned(model_bytes.size() + 16);
  uint8_t* model_data = aligned.data() + ((16 - reinterpret_cast<uintptr_t>(aligned.data()) % 16) % 16);
  std::memcpy(model_data, model_bytes.data(), model_bytes.size());
  const tflite::Model* model = tflite::GetModel(model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) return Fail("unsupported schema version", argv[1]);

  // The operators our exporter emits, as a deployment's generated resolver registers only the model's
  // own (EI_TFLITE_RESOLVER in classifier/inferencing_engines/tflite_micro.h). The kernels, and so the
  // arenas and outputs, are the ones AllOpsResolver would give; only these need compiling (Makefile).
  static tflite::MicroMutableOpResolver<11> resolver;
  resolver.AddConv2D();
  resolver.AddFullyConnected();
  resolver.AddMaxPool2D();
  resolver.AddAveragePool2D();
  resolver.AddReshape();
  resolver.AddSoftmax();
  resolver.AddRelu();
  resolver.AddLogistic();
  resolver.AddTanh();
  resolver.AddAdd();
  resolver.AddMul();
  if (!CheckOperators(model, resolver)) return 1;
  if (record) return Record(model, resolver);
  if (trace) return Trace(model, resolver);

  tflite::MicroInterpreter interpreter(model, resolver, g_arena, kArenaSize);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return Fail("AllocateTensors failed", argv[1]);
  // arena_used_bytes() after AllocateTensors, which already holds the input/output TfLiteTensor records.
  TfLiteTensor* input = interpreter.input(0);
  TfLiteTensor* output = interpreter.output(0);
  if (!input || !output) return Fail("model has no input or output tensor", argv[1]);
  size_t arena_used = interpreter.arena_used_bytes();
  size_t features = input->bytes / (input->type == kTfLiteFloat32 ? 4 : 1);
  size_t classes = output->bytes / (output->type == kTfLiteFloat32 ? 4 : 1);
  std::printf("{\"arena_used_bytes\":%zu,\"operators\":%zu,\"tensors\":%zu,\"input_type\":\"%s\",\"output_type\":\"%s\","
              "\"features\":%zu,\"classes\":%zu,\"pointer_bytes\":%zu}\n",
              arena_used, static_cast<size_t>(model->subgraphs()->Get(0)->operators()->size()), interpreter.tensors_size(), TypeName(input->type),
              TypeName(output->type), features, classes, sizeof(void*));
  if (argc == 2) return 0;

  std::vector<uint8_t> rows_bytes;
  if (!ReadFile(argv[2], &rows_bytes)) return Fail("cannot read", argv[2]);
  long n = std::strtol(argv[3], nullptr, 10);
  if (n < 0 || rows_bytes.size() != static_cast<size_t>(n) * features * sizeof(float))
    return Fail("rows file size does not match N x features x 4", argv[2]);
  const float* rows = reinterpret_cast<const float*>(rows_bytes.data());
  std::vector<float> probs(static_cast<size_t>(n) * classes);
  for (long r = 0; r < n; r++) {
    const float* row = rows + static_cast<size_t>(r) * features;
    for (size_t i = 0; i < features; i++) {
      if (input->type == kTfLiteFloat32) input->data.f[i] = row[i];
      else if (input->type == kTfLiteInt8)
        input->data.int8[i] = static_cast<int8_t>(pre_cast_quantize(row[i], input->params.scale, input->params.zero_point, true));
      else return Fail("unsupported input type", TypeName(input->type));
    }
    if (interpreter.Invoke() != kTfLiteOk) return Fail("Invoke failed", argv[1]);
    for (size_t c = 0; c < classes; c++) {
      float p = output->type == kTfLiteFloat32 ? output->data.f[c]
              : (static_cast<int32_t>(output->data.int8[c]) - output->params.zero_point) * output->params.scale;
      probs[static_cast<size_t>(r) * classes + c] = p;
    }
  }
  FILE* out = std::fopen(argv[4], "wb");
  if (!out || std::fwrite(probs.data(), sizeof(float), probs.size(), out) != probs.size()) return Fail("cannot write", argv[4]);
  std::fclose(out);
  return 0;
}
