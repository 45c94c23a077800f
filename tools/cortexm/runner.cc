// Runs a .tflite file through TensorFlow Lite Micro on an emulated Cortex-M4F (QEMU mps2-an386, started
// with -icount shift=0 so that its clock advances 1 ns per executed instruction) the way Edge Impulse's
// SDK drives it on a device (classifier/inferencing_engines/tflite_micro.h, run_nn_inference): for every
// inference a MicroInterpreter is built on a 16-byte-aligned static arena, AllocateTensors(true) runs, the
// input is written (int8 quantized by the SDK's pre_cast_quantize), Invoke() runs, the output is read
// (int8 dequantized as (q - zero_point) * scale) and the interpreter is deleted.
//
// Files are read and written on the host through semihosting, relative to QEMU's working directory:
//   model.tflite  the model (read into a buffer in code memory, as a model array in flash)
//   rows.f32      optional: N rows of float32 features; without it one all-zero row is run
//   out.f32       written: N x classes probabilities
//   trace         optional: when present, only AllocateTensors runs and every persistent (tail) allocation
//                 is printed as "tail SIZE ALIGNMENT", then "head" and "tail_total" (as tools/tflm/runner.cc
//                 --trace does on the host: how src/export/tflite/tflm-arena.ts's CMSIS-NN records are read)
//   profile       optional: when present, one inference (of rows.f32's first row, else zeros) runs with every kernel's init, prepare and invoke
//                 wrapped by timer reads, and one JSON line gives each operator's instructions in them
//                 (init_instructions, prepare_instructions, invoke_instructions, in graph order), as the
//                 calibration of src/export/tflite/cortex-m-cost.ts reads them (tools/cortexm/calibrate.ts);
//                 TFLM's own profiler hooks are compiled out of this SDK (TF_LITE_STRIP_ERROR_STRINGS)
// stdout: one JSON line: arena_used_bytes, and per inference the instructions of the setup (interpreter
// construction + AllocateTensors + delete, what run_nn_inference repeats on every call) and of Invoke().
//
// Instructions are read from the CMSDK APB timer 0 (0x40000000), clocked at 25 MHz: under -icount shift=0
// one tick is 40 instructions. Built by tools/cortexm/Makefile, driven by test/helpers/cortexm.ts; never
// part of the shipped package.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>

#include "edge-impulse-sdk/classifier/ei_quantize.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/memory_planner/greedy_memory_planner.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/micro_interpreter.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "edge-impulse-sdk/tensorflow/lite/schema/schema_generated.h"

namespace {

constexpr size_t kModelCapacity = 2 * 1024 * 1024;
constexpr size_t kArenaSize = 2560 * 1024;
constexpr uint32_t kInstructionsPerTick = 40;  // 1 GHz virtual instruction clock / 25 MHz timer clock
constexpr size_t kMaxFeatures = 65536;
constexpr size_t kMaxClasses = 1024;

__attribute__((section(".model"))) alignas(16) uint8_t g_model[kModelCapacity];
alignas(16) uint8_t g_arena[kArenaSize];
float g_row[kMaxFeatures];
float g_probs[kMaxClasses];

struct Timer {
  volatile uint32_t ctrl, value, reload, intstatus;
};
Timer* const kTimer = reinterpret_cast<Timer*>(0x40000000);

void StartTimer() {
  kTimer->ctrl = 0;
  kTimer->reload = 0xFFFFFFFFu;
  kTimer->value = 0xFFFFFFFFu;
  kTimer->ctrl = 1;  // enable, counting down
}
inline uint32_t Ticks() { return kTimer->value; }

int Fail(const char* what) {
  std::printf("{\"error\":\"%s\"}\n", what);
  return 1;
}

size_t ReadFile(const char* path, uint8_t* into, size_t capacity) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return 0;
  size_t got = std::fread(into, 1, capacity, f);
  std::fclose(f);
  return got;
}

class TracingArenaAllocator : public tflite::SingleArenaBufferAllocator {
 public:
  using tflite::SingleArenaBufferAllocator::SingleArenaBufferAllocator;
  uint8_t* AllocatePersistentBuffer(size_t size, size_t alignment) override {
    std::printf("tail %lu %lu\n", static_cast<unsigned long>(size), static_cast<unsigned long>(alignment));
    return tflite::SingleArenaBufferAllocator::AllocatePersistentBuffer(size, alignment);
  }
};

int Trace(const tflite::Model* model, const tflite::MicroOpResolver& resolver) {
  static TracingArenaAllocator arena(g_arena, kArenaSize);
  static tflite::GreedyMemoryPlanner planner;
  tflite::MicroAllocator* allocator = tflite::MicroAllocator::Create(&arena, &planner);
  tflite::MicroInterpreter interpreter(model, resolver, allocator);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return Fail("AllocateTensors failed");
  std::printf("head %lu\ntail_total %lu\n", static_cast<unsigned long>(arena.GetNonPersistentUsedBytes()),
              static_cast<unsigned long>(arena.GetPersistentUsedBytes()));
  return 0;
}

// Profiling: the resolver's registrations (which the interpreter points to) get wrappers that time the
// kernel's own function; one wrapper per resolver slot, so it knows which function it wraps.
constexpr int kSlots = 11;
struct Original {
  void* (*init)(TfLiteContext*, const char*, size_t);
  TfLiteStatus (*prepare)(TfLiteContext*, TfLiteNode*);
  TfLiteStatus (*invoke)(TfLiteContext*, TfLiteNode*);
} g_original[kSlots];
constexpr size_t kMaxOps = 1024;
uint32_t g_init[kMaxOps], g_prepare[kMaxOps], g_invoke[kMaxOps];
size_t g_inits, g_prepares, g_invokes;

template <int K>
void* InitWrapper(TfLiteContext* c, const char* b, size_t n) {
  uint32_t t = Ticks();
  void* r = g_original[K].init(c, b, n);
  if (g_inits < kMaxOps) g_init[g_inits++] = t - Ticks();
  return r;
}
template <int K>
TfLiteStatus PrepareWrapper(TfLiteContext* c, TfLiteNode* node) {
  uint32_t t = Ticks();
  TfLiteStatus r = g_original[K].prepare(c, node);
  if (g_prepares < kMaxOps) g_prepare[g_prepares++] = t - Ticks();
  return r;
}
template <int K>
TfLiteStatus InvokeWrapper(TfLiteContext* c, TfLiteNode* node) {
  uint32_t t = Ticks();
  TfLiteStatus r = g_original[K].invoke(c, node);
  if (g_invokes < kMaxOps) g_invoke[g_invokes++] = t - Ticks();
  return r;
}

// Kernels without an init or prepare get a wrapper that does nothing, timed like the others (a few
// instructions, below the timer's 40-instruction tick).
void* NoInit(TfLiteContext*, const char*, size_t) { return nullptr; }
TfLiteStatus NoPrepare(TfLiteContext*, TfLiteNode*) { return kTfLiteOk; }

template <int K>
void Wrap(TfLiteRegistration* r) {
  g_original[K] = {r->init ? r->init : NoInit, r->prepare ? r->prepare : NoPrepare, r->invoke};
  r->init = InitWrapper<K>;
  r->prepare = PrepareWrapper<K>;
  r->invoke = InvokeWrapper<K>;
}

void PrintList(const char* name, const uint32_t* ticks, size_t n, bool last) {
  std::printf("\"%s\":[", name);
  for (size_t i = 0; i < n; i++) std::printf("%s%lu", i ? "," : "", static_cast<unsigned long>(ticks[i] * kInstructionsPerTick));
  std::printf("]%s", last ? "}\n" : ",");
}

// The first row of rows.f32 into the input (int8 quantized as the SDK does); zeros when there is no file.
bool WriteFirstRow(TfLiteTensor* input) {
  size_t features = input->bytes / (input->type == kTfLiteFloat32 ? 4 : 1);
  if (features > kMaxFeatures) return false;
  std::memset(g_row, 0, sizeof(g_row));
  if (FILE* rows = std::fopen("rows.f32", "rb")) {
    size_t got = std::fread(g_row, sizeof(float), features, rows);
    std::fclose(rows);
    if (got != features) return false;
  }
  for (size_t i = 0; i < features; i++) {
    if (input->type == kTfLiteFloat32) input->data.f[i] = g_row[i];
    else input->data.int8[i] = static_cast<int8_t>(pre_cast_quantize(g_row[i], input->params.scale, input->params.zero_point, true));
  }
  return true;
}

int Profile(const tflite::Model* model, tflite::MicroMutableOpResolver<kSlots>& resolver) {
  const tflite::BuiltinOperator ops[kSlots] = {
      tflite::BuiltinOperator_CONV_2D, tflite::BuiltinOperator_FULLY_CONNECTED, tflite::BuiltinOperator_MAX_POOL_2D,
      tflite::BuiltinOperator_AVERAGE_POOL_2D, tflite::BuiltinOperator_RESHAPE, tflite::BuiltinOperator_SOFTMAX,
      tflite::BuiltinOperator_RELU, tflite::BuiltinOperator_LOGISTIC, tflite::BuiltinOperator_TANH,
      tflite::BuiltinOperator_ADD, tflite::BuiltinOperator_MUL};
  void (*wraps[kSlots])(TfLiteRegistration*) = {Wrap<0>, Wrap<1>, Wrap<2>, Wrap<3>, Wrap<4>, Wrap<5>,
                                                Wrap<6>, Wrap<7>, Wrap<8>, Wrap<9>, Wrap<10>};
  for (int k = 0; k < kSlots; k++) wraps[k](const_cast<TfLiteRegistration*>(resolver.FindOp(ops[k])));
  StartTimer();
  tflite::MicroInterpreter interpreter(model, resolver, g_arena, kArenaSize);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return Fail("AllocateTensors failed");
  if (!WriteFirstRow(interpreter.input(0))) return Fail("cannot read the first row of rows.f32");
  if (interpreter.Invoke() != kTfLiteOk) return Fail("Invoke failed");
  std::printf("{");
  PrintList("init_instructions", g_init, g_inits, false);
  PrintList("prepare_instructions", g_prepare, g_prepares, false);
  PrintList("invoke_instructions", g_invoke, g_invokes, true);
  return 0;
}

}  // namespace

int main() {
  size_t model_bytes = ReadFile("model.tflite", g_model, kModelCapacity);
  if (model_bytes == 0 || model_bytes == kModelCapacity) return Fail("cannot read model.tflite, or it is larger than the model buffer");
  const tflite::Model* model = tflite::GetModel(g_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) return Fail("unsupported schema version");

  // The exporter's operators, as a deployment's generated resolver (EI_TFLITE_RESOLVER, a static
  // MicroMutableOpResolver) registers a model's own; registered once, outside the measurement.
  static tflite::MicroMutableOpResolver<kSlots> resolver;
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
  const auto* codes = model->operator_codes();
  for (size_t i = 0; codes && i < codes->size(); i++) {
    int builtin = std::max<int>(codes->Get(i)->deprecated_builtin_code(), codes->Get(i)->builtin_code());
    // This TFLM strips its log messages: a missing operator would fail without a word.
    if (resolver.FindOp(static_cast<tflite::BuiltinOperator>(builtin)) == nullptr) return Fail("an operator is not in the runner's resolver");
  }

  if (FILE* trace = std::fopen("trace", "rb")) {
    std::fclose(trace);
    return Trace(model, resolver);
  }

  if (FILE* profile = std::fopen("profile", "rb")) {
    std::fclose(profile);
    return Profile(model, resolver);
  }

  FILE* rows = std::fopen("rows.f32", "rb");
  FILE* out = std::fopen("out.f32", "wb");
  if (!out) return Fail("cannot write out.f32");
  StartTimer();
  uint32_t t0 = Ticks();
  uint32_t empty = t0 - Ticks();  // the cost of a timer read, taken off every interval

  size_t arena_used = 0;
  std::printf("{\"setup_instructions\":[");
  // Invoke counts are printed after the setup counts; kept here (a few per test run).
  static uint32_t invoke_ticks[4096];
  size_t n = 0;
  for (;; n++) {
    uint32_t a = Ticks();
    auto* interpreter = new tflite::MicroInterpreter(model, resolver, g_arena, kArenaSize);
    if (interpreter->AllocateTensors(true) != kTfLiteOk) return Fail("AllocateTensors failed");
    uint32_t b = Ticks();
    TfLiteTensor* input = interpreter->input(0);
    TfLiteTensor* output = interpreter->output(0);
    size_t features = input->bytes / (input->type == kTfLiteFloat32 ? 4 : 1);
    size_t classes = output->bytes / (output->type == kTfLiteFloat32 ? 4 : 1);
    if (features > kMaxFeatures || classes > kMaxClasses) return Fail("model input or output too large for the runner");
    if (rows) {
      if (std::fread(g_row, sizeof(float), features, rows) != features) {
        delete interpreter;
        break;
      }
    } else if (n == 1) {
      delete interpreter;
      break;
    } else {
      std::memset(g_row, 0, sizeof(g_row));
    }
    if (n >= sizeof(invoke_ticks) / sizeof(invoke_ticks[0])) return Fail("too many rows");
    arena_used = interpreter->arena_used_bytes();
    for (size_t i = 0; i < features; i++) {
      if (input->type == kTfLiteFloat32) input->data.f[i] = g_row[i];
      else if (input->type == kTfLiteInt8)
        input->data.int8[i] = static_cast<int8_t>(pre_cast_quantize(g_row[i], input->params.scale, input->params.zero_point, true));
      else return Fail("unsupported input type");
    }
    uint32_t c = Ticks();
    if (interpreter->Invoke() != kTfLiteOk) return Fail("Invoke failed");
    uint32_t d = Ticks();
    for (size_t k = 0; k < classes; k++) {
      g_probs[k] = output->type == kTfLiteFloat32 ? output->data.f[k]
                 : (static_cast<int32_t>(output->data.int8[k]) - output->params.zero_point) * output->params.scale;
    }
    if (std::fwrite(g_probs, sizeof(float), classes, out) != classes) return Fail("cannot write out.f32");
    uint32_t e = Ticks();
    delete interpreter;
    uint32_t f = Ticks();
    uint32_t setup = (a - b - empty) + (e - f - empty);
    invoke_ticks[n] = c - d - empty;
    std::printf("%s%lu", n ? "," : "", static_cast<unsigned long>(setup * kInstructionsPerTick));
  }
  std::fclose(out);
  if (rows) std::fclose(rows);
  std::printf("],\"invoke_instructions\":[");
  for (size_t i = 0; i < n; i++) std::printf("%s%lu", i ? "," : "", static_cast<unsigned long>(invoke_ticks[i] * kInstructionsPerTick));
  std::printf("],\"arena_used_bytes\":%lu,\"operators\":%lu,\"model_bytes\":%lu,\"instructions_per_tick\":%lu}\n",
              static_cast<unsigned long>(arena_used), static_cast<unsigned long>(model->subgraphs()->Get(0)->operators()->size()),
              static_cast<unsigned long>(model_bytes), static_cast<unsigned long>(kInstructionsPerTick));
  return 0;
}
