// The code a firmware links for TFLM with a given set of operators: GetModel, a MicroMutableOpResolver
// with the operators named by -DOP_<BuiltinOperator name>=1, a MicroInterpreter on a static arena driven
// the way Edge Impulse's tflite_micro.h drives it (AllocateTensors, input, Invoke, output,
// arena_used_bytes). The same program as tools/tflm/measure-code-size.sh's "core"/"op-X" links;
// its flash minus an empty main's is what tools/cortexm/Makefile writes to size/OPS.size.
#include "edge-impulse-sdk/tensorflow/lite/micro/micro_interpreter.h"
#include "edge-impulse-sdk/tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "edge-impulse-sdk/tensorflow/lite/schema/schema_generated.h"

// Read through volatiles so nothing about the model can be folded at compile time.
const unsigned char* volatile g_model_data = nullptr;
volatile size_t g_sink;
alignas(16) static uint8_t g_arena[16 * 1024];

int main() {
  const tflite::Model* model = tflite::GetModel(g_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) return 1;
  tflite::MicroMutableOpResolver<11> resolver;
#ifdef OP_CONV_2D
  resolver.AddConv2D();
#endif
#ifdef OP_FULLY_CONNECTED
  resolver.AddFullyConnected();
#endif
#ifdef OP_MAX_POOL_2D
  resolver.AddMaxPool2D();
#endif
#ifdef OP_AVERAGE_POOL_2D
  resolver.AddAveragePool2D();
#endif
#ifdef OP_RESHAPE
  resolver.AddReshape();
#endif
#ifdef OP_SOFTMAX
  resolver.AddSoftmax();
#endif
#ifdef OP_RELU
  resolver.AddRelu();
#endif
#ifdef OP_LOGISTIC
  resolver.AddLogistic();
#endif
#ifdef OP_TANH
  resolver.AddTanh();
#endif
#ifdef OP_ADD
  resolver.AddAdd();
#endif
#ifdef OP_MUL
  resolver.AddMul();
#endif
  tflite::MicroInterpreter interpreter(model, resolver, g_arena, sizeof g_arena, nullptr, nullptr);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return 2;
  TfLiteTensor* input = interpreter.input(0);
  if (interpreter.Invoke() != kTfLiteOk) return 3;
  g_sink = input->bytes + interpreter.output(0)->bytes + interpreter.arena_used_bytes();
  return 0;
}
