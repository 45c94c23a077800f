#!/usr/bin/env bash
# Measures the flash that TensorFlow Lite Micro's code takes on a Cortex-M4F, beyond the .tflite bytes:
# the runtime every model needs, and each operator kernel our exporter emits. The figures behind
# src/export/tflite/tflm-code-size.ts; rerun this script to regenerate them.
#
#   tools/tflm/measure-code-size.sh [--ops CONV_2D,RESHAPE] [--all-sources] [--jobs N] [--keep DIR]
#                                   [--json] [--extra-flags "-DFOO=1"]
#
# Source: TFLM as Edge Impulse's C++ SDK ships it, in <shared>/reference/ei-sdk-tflm (shared = $DENDRITIC_SHARED,
# else ../shared beside the repository, else beside the repository this one was cloned from; the rule of
# src/util/shared-dir.ts). Needs Debian's bare-metal Arm toolchain:
#   apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
#
# Method (linked programs, not sums of object files):
#   1. Compile TFLM with arm-none-eabi-g++ for $ARCH with $OPT and the SDK's desktop-build defines
#      (tools/tflm/Makefile): -DTF_LITE_DISABLE_X86_NEON=1 -DEI_CLASSIFIER_ENABLE_DETECTION_POSTPROCESS_OP=1
#      -DEI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN=0 (reference kernels), include root = the folder holding
#      edge-impulse-sdk/. TF_LITE_STATIC_MEMORY is NOT defined: the SDK's desktop build does not define it,
#      and neither do its classifier headers (classifier/, inferencing_engines/tflite_micro.h) or its
#      porting layer (measured with --extra-flags -DTF_LITE_STATIC_MEMORY it changes the figures by < 100
#      bytes). NDEBUG is not defined either (nothing in the SDK defines it); with it, TFLM's DCHECKs and
#      flatbuffers' assert() go, and with them newlib's stdio: the interpreter shrinks by about 9 KB.
#      Error strings are stripped by the SDK itself (micro_log.h defines TF_LITE_STRIP_ERROR_STRINGS).
#   2. Put the objects in a static library, so the linker takes only the members a program references.
#   3. Link with --gc-sections --specs=nano.specs --specs=nosys.specs:
#        empty   int main() { return 0; }
#        core    GetModel + MicroMutableOpResolver with no operator + MicroInterpreter on a static arena:
#                AllocateTensors(true), input(0), Invoke(), output(0), arena_used_bytes(), destructor (what
#                classifier/inferencing_engines/tflite_micro.h does on a device, less its malloc'd arena)
#        op-X    core with resolver.AddX()
#        all     core with every requested operator; but-X: all of them but X; setN: the CHECK_SETS below
#      and read flash = text + data of `arm-none-eabi-size` (Berkeley: text counts .text, .rodata,
#      .ARM.exidx, .init_array; data's initial values live in flash too).
#        interpreter = flash(core) - flash(empty)
#        alone X     = flash(op-X) - flash(core)              (X's code with every helper it needs)
#        unique X    = flash(all) - flash(but-X)              (what only X needs, next to the others)
#        shared      = flash(all) - flash(core) - sum(unique)  (helpers two or more operators need)
#      The interpreter includes what TFLM pulls from newlib-nano, libgcc and libstdc++ (memcpy, malloc,
#      and newlib's stdio behind assert()), which an application may already have for its own use.
#      "alone" summed over a model's operators counts the shared helpers once per operator; interpreter +
#      shared + sum(unique) is exact for all operators together and an upper bound for fewer. The script
#      checks both against real links of CHECK_SETS (the exporter's model families).
#   4. Per-type figures: Edge Impulse's kernels honour EI_TFLITE_DISABLE_<OP>_IN_{F32,I8,I16,U8} (a deployment
#      may set them in tflite-model/trained_model_ops_define.h, which classifier/ei_classifier_config.h
#      includes when present). For the operators that have them (CONV_2D, FULLY_CONNECTED, MAX_POOL_2D,
#      AVERAGE_POOL_2D, SOFTMAX) the op's files are recompiled with every other input type disabled: alone
#      per op ("f32", "i8"), and with all of them restricted at once, the all / but-X / set links again
#      ("unique-f32", "unique-i8"). The other operators dispatch on type at run time with no switch.
#
# Options:
#   --ops LIST       comma-separated operator names (BuiltinOperator enum names); default: all eleven
#   --all-sources    compile every TFLM source of the SDK's desktop build (tools/tflm/Makefile's list, minus
#                    kissfft/dsp/posix porting) instead of the ones the links need; the numbers must not change
#   --jobs N         parallel compiles (default: nproc)
#   --keep DIR       build in DIR and keep it (default: a temp dir, removed at exit)
#   --json           print one JSON object instead of the table
#   --extra-flags S  appended to the compile flags (e.g. "-DTF_LITE_STATIC_MEMORY" to see its effect)
# Time (2 cores): about 3 minutes for the default set (~220 CPU-s of compiling, 50 links), about 50 s for
# --ops RESHAPE (compiling the 26 core sources dominates).
set -euo pipefail
shopt -s inherit_errexit

ARCH="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
OPT="-Os -ffunction-sections -fdata-sections -fno-rtti -fno-exceptions"
DEFINES="-DTF_LITE_DISABLE_X86_NEON=1 -DEI_CLASSIFIER_ENABLE_DETECTION_POSTPROCESS_OP=1 -DEI_CLASSIFIER_TFLITE_ENABLE_CMSIS_NN=0"
LDFLAGS="-Wl,--gc-sections --specs=nano.specs --specs=nosys.specs"
ALL_OPS="CONV_2D FULLY_CONNECTED MAX_POOL_2D AVERAGE_POOL_2D RESHAPE SOFTMAX RELU LOGISTIC TANH ADD MUL"

die() { echo "measure-code-size: $*" >&2; exit 1; }

OPS="$ALL_OPS"; ALL_SOURCES=0; JOBS="$(nproc 2>/dev/null || echo 2)"; KEEP=""; JSON=0; EXTRA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ops) OPS="${2//,/ }"; shift 2 ;;
    --all-sources) ALL_SOURCES=1; shift ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    --json) JSON=1; shift ;;
    --extra-flags) EXTRA="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# --- tools and sources -------------------------------------------------------------------------------
for t in arm-none-eabi-gcc arm-none-eabi-g++ arm-none-eabi-ar arm-none-eabi-size; do
  command -v "$t" >/dev/null || die "$t not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib)"
done
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
find_shared() {
  if [ -n "${DENDRITIC_SHARED:-}" ] && [ -d "$DENDRITIC_SHARED" ]; then echo "$DENDRITIC_SHARED"; return; fi
  if [ -d "$REPO/../shared" ]; then (cd "$REPO/../shared" && pwd); return; fi
  local url; url="$(git -C "$REPO" config --get remote.origin.url 2>/dev/null || true)"; url="${url#file://}"
  if [ -n "$url" ] && [ "${url:0:1}" = / ] && [ -d "$url/../shared" ]; then (cd "$url/../shared" && pwd); return; fi
  echo "$REPO/../shared"
}
SDK="$(find_shared)/reference/ei-sdk-tflm"
EI="$SDK/edge-impulse-sdk"
[ -d "$EI/tensorflow/lite/micro" ] || die "TFLM sources not found in $SDK (set DENDRITIC_SHARED)"

# The sources the links below need: the library members the linker took when every TFLM source was in
# the library (--all-sources, which must give the same numbers). Paths under edge-impulse-sdk/tensorflow/lite.
# The last four are kernel helpers that (nearly) every operator pulls in, not the interpreter itself.
CORE_SOURCES="core/api/common.cc core/api/error_reporter.cc core/api/flatbuffer_conversions.cc
  core/api/op_resolver.cc micro/flatbuffer_conversions_bridge.cc micro/flatbuffer_utils.cc
  micro/memory_helpers.cc micro/memory_planner/greedy_memory_planner.cc micro/micro_allocation_info.cc
  micro/micro_allocator.cc micro/micro_context.cc micro/micro_error_reporter.cc micro/micro_graph.cc
  micro/micro_interpreter.cc micro/micro_log.cc micro/micro_resource_variable.cc micro/micro_utils.cc
  micro/non_persistent_arena_buffer_allocator.cc micro/op_resolver_bridge.cc
  micro/persistent_arena_buffer_allocator.cc micro/schema_utils.cc micro/single_arena_buffer_allocator.cc
  kernels/internal/portable_tensor_utils.cc kernels/internal/quantization_util.cc kernels/kernel_util_lite.cc
  micro/kernels/kernel_util_micro.cc"

op_files() {  # an operator's own sources (micro/kernels/)
  case "$1" in
    CONV_2D) echo "conv.cc conv_common.cc" ;;
    FULLY_CONNECTED) echo "fully_connected.cc fully_connected_common.cc" ;;
    MAX_POOL_2D|AVERAGE_POOL_2D) echo "pooling.cc pooling_common.cc" ;;
    RESHAPE) echo "reshape.cc" ;;
    SOFTMAX) echo "softmax.cc softmax_common.cc" ;;
    RELU) echo "activations.cc activations_common.cc" ;;
    LOGISTIC) echo "logistic.cc logistic_common.cc" ;;
    TANH) echo "tanh.cc" ;;
    ADD) echo "add.cc add_common.cc" ;;
    MUL) echo "mul.cc mul_common.cc" ;;
    *) die "unknown operator $1 (known: $ALL_OPS)" ;;
  esac
}
op_add() {  # MicroMutableOpResolver's method
  case "$1" in
    CONV_2D) echo AddConv2D ;; FULLY_CONNECTED) echo AddFullyConnected ;; MAX_POOL_2D) echo AddMaxPool2D ;;
    AVERAGE_POOL_2D) echo AddAveragePool2D ;; RESHAPE) echo AddReshape ;; SOFTMAX) echo AddSoftmax ;;
    RELU) echo AddRelu ;; LOGISTIC) echo AddLogistic ;; TANH) echo AddTanh ;; ADD) echo AddAdd ;; MUL) echo AddMul ;;
  esac
}
has_type_switch() { case "$1" in CONV_2D|FULLY_CONNECTED|MAX_POOL_2D|AVERAGE_POOL_2D|SOFTMAX) return 0 ;; *) return 1 ;; esac; }

# --- build dir ---------------------------------------------------------------------------------------
if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; W="$(cd "$KEEP" && pwd)"; else W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT; fi
START=$SECONDS
# assert() and flatbuffers embed __FILE__: mapped to the SDK-relative path a project's build embeds, so the
# figures do not depend on where shared/ is checked out (a longer path moved the interpreter by 4 bytes).
PATH_MAP="-fmacro-prefix-map=$SDK/="
CFLAGS="$ARCH $OPT -w -I$SDK $PATH_MAP $DEFINES $EXTRA"
# A kept dir reuses its objects when they were built with the same flags and sources.
STAMP="$CFLAGS | $SDK"
if [ "$(cat "$W/stamp" 2>/dev/null)" != "$STAMP" ]; then rm -rf "$W/obj" "$W/var"; fi
rm -rf "$W/prog" "$W/size"
mkdir -p "$W/obj" "$W/prog" "$W/size"
echo "$STAMP" > "$W/stamp"

TFL="$EI/tensorflow/lite"
if [ "$ALL_SOURCES" = 1 ]; then
  SOURCES="$(cd "$TFL" && ls c/common.c kernels/*.cc kernels/internal/*.cc micro/kernels/*.cc micro/*.cc micro/memory_planner/*.cc core/api/*.cc)"
else
  SOURCES="$CORE_SOURCES"
  for op in $OPS; do for f in $(op_files "$op"); do SOURCES="$SOURCES micro/kernels/$f"; done; done
  SOURCES="$(printf '%s\n' $SOURCES | sort -u)"
fi

export CFLAGS TFL
# compile SRC OUTDIR [defines...]: objects are named by their flattened path, unique inside the library
compile() {
  local src="$1" out="$2"; shift 2
  local obj="$out/${src//\//_}.o"
  [ -s "$obj" ] && return 0
  case "$src" in
    *.c) arm-none-eabi-gcc $CFLAGS "$@" -c "$TFL/$src" -o "$obj.tmp" ;;
    *) arm-none-eabi-g++ -std=c++14 $CFLAGS "$@" -c "$TFL/$src" -o "$obj.tmp" ;;
  esac
  mv "$obj.tmp" "$obj"
}
export -f compile
# shellcheck disable=SC2086
printf '%s\n' $SOURCES | xargs -P "$JOBS" -I{} bash -c 'compile "$1" "$2"' _ {} "$W/obj"
rm -f "$W/libtflm.a"
arm-none-eabi-ar rcs "$W/libtflm.a" "$W"/obj/*.o

# Type-restricted libraries: the op's files recompiled with the other input types disabled, replacing
# the same-named members of a copy of the library.
VARIANT_JOBS=()
for op in $OPS; do
  has_type_switch "$op" || continue
  for v in f32 i8; do
    if [ "$v" = f32 ]; then off="I8 I16 U8"; else off="F32 I16 U8"; fi
    defs=""; for t in $off; do defs="$defs -DEI_TFLITE_DISABLE_${op}_IN_${t}=1"; done
    mkdir -p "$W/var/$op-$v"
    for f in $(op_files "$op"); do VARIANT_JOBS+=("micro/kernels/$f $W/var/$op-$v $defs"); done
  done
done
# ... and every such file with all of the requested operators restricted at once (pooling.cc holds two).
for v in f32 i8; do
  if [ "$v" = f32 ]; then off="I8 I16 U8"; else off="F32 I16 U8"; fi
  mkdir -p "$W/var/all-$v"
  for f in $(for op in $OPS; do if has_type_switch "$op"; then op_files "$op"; fi; done | tr ' ' '\n' | sort -u); do
    defs=""
    for op in $OPS; do
      has_type_switch "$op" || continue
      case " $(op_files "$op") " in *" $f "*) for t in $off; do defs="$defs -DEI_TFLITE_DISABLE_${op}_IN_${t}=1"; done ;; esac
    done
    VARIANT_JOBS+=("micro/kernels/$f $W/var/all-$v$defs")
  done
done
if [ ${#VARIANT_JOBS[@]} -gt 0 ]; then
  printf '%s\n' "${VARIANT_JOBS[@]}" | xargs -P "$JOBS" -L1 bash -c 'compile "$@"' _
fi

# --- programs ----------------------------------------------------------------------------------------
cat > "$W/prog/empty.cc" <<'CC'
int main() { return 0; }
CC
# main.cc: OPS_ADD is the resolver calls (none for the core alone).
cat > "$W/prog/main.cc" <<'CC'
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
  tflite::MicroMutableOpResolver<OPS_COUNT> resolver;
  OPS_ADD
  tflite::MicroInterpreter interpreter(model, resolver, g_arena, sizeof g_arena, nullptr, nullptr);
  if (interpreter.AllocateTensors(true) != kTfLiteOk) return 2;
  TfLiteTensor* input = interpreter.input(0);
  if (interpreter.Invoke() != kTfLiteOk) return 3;
  g_sink = input->bytes + interpreter.output(0)->bytes + interpreter.arena_used_bytes();
  return 0;
}
CC
export ARCH LDFLAGS W
flash() { arm-none-eabi-size "$1" | awk 'NR == 2 { print $1 + $2 }'; }
# program NAME OPS...: compiles main.cc with those operators into prog/NAME.o
program() {
  local name="$1" add="" n=0 op; shift
  for op in "$@"; do add="$add resolver.$(op_add "$op")();"; n=$((n + 1)); done
  [ "$n" -gt 0 ] || n=1
  arm-none-eabi-g++ -std=c++14 $CFLAGS "-DOPS_COUNT=$n" "-DOPS_ADD=$add" -c "$W/prog/main.cc" -o "$W/prog/$name.o"
  echo "$*" > "$W/prog/$name.ops"
}
# link NAME LIB [MAIN]: links prog/MAIN.o (default NAME) against LIB, writes its flash bytes to size/NAME
link() {
  local name="$1" lib="$2" main="${3:-$1}"
  arm-none-eabi-g++ $ARCH $LDFLAGS -Wl,-Map="$W/prog/$name.map" -o "$W/prog/$name.elf" "$W/prog/$main.o" "$lib" -lm
  flash "$W/prog/$name.elf" > "$W/size/$name"
}
# job NAME LIB OPS...: both
job() { local name="$1" lib="$2"; shift 2; program "$name" "$@" && link "$name" "$lib"; }
export -f flash program link job op_add die

# Realistic operator sets (the exporter's model families) on which the two estimates below are checked
# against a real link: dense, conv with a dense head, and dense with dendrites (the elementwise ops).
CHECK_SETS="FULLY_CONNECTED,SOFTMAX RESHAPE,CONV_2D,MAX_POOL_2D,FULLY_CONNECTED,SOFTMAX
  RESHAPE,CONV_2D,MAX_POOL_2D,AVERAGE_POOL_2D,FULLY_CONNECTED,SOFTMAX,ADD,MUL
  FULLY_CONNECTED,SOFTMAX,MUL,ADD,TANH,LOGISTIC"
in_ops() { case " $OPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
NOPS=$(echo $OPS | wc -w)

JOBS_FILE="$W/jobs"; : > "$JOBS_FILE"
echo "core $W/libtflm.a" >> "$JOBS_FILE"
for op in $OPS; do echo "op-$op $W/libtflm.a $op" >> "$JOBS_FILE"; done
if [ "$NOPS" -gt 1 ]; then
  echo "all $W/libtflm.a $OPS" >> "$JOBS_FILE"
  for op in $OPS; do
    rest=""; for o in $OPS; do [ "$o" = "$op" ] || rest="$rest $o"; done
    echo "but-$op $W/libtflm.a$rest" >> "$JOBS_FILE"  # no trailing blank: xargs -L would join the lines
  done
  i=0
  for set in $CHECK_SETS; do
    ok=1; for op in ${set//,/ }; do in_ops "$op" || ok=0; done
    if [ "$ok" = 1 ]; then echo "set$i $W/libtflm.a ${set//,/ }" >> "$JOBS_FILE"; fi
    i=$((i + 1))
  done
fi
arm-none-eabi-g++ -std=c++14 $CFLAGS -c "$W/prog/empty.cc" -o "$W/prog/empty.o"
arm-none-eabi-g++ $ARCH $LDFLAGS -o "$W/prog/empty.elf" "$W/prog/empty.o"
xargs -P "$JOBS" -L1 bash -c 'job "$@"' _ < "$JOBS_FILE"
SETS="$(cd "$W/size" && ls | grep -x 'set[0-9]*' || true)"

# Type-restricted links reuse the main objects above with a library whose op members are replaced:
# op-X-v (X alone, restricted to type v), and when several operators are measured, the all / but-X /
# set links again with every requested operator restricted to v.
: > "$W/jobs2"
typed_lib() {  # typed_lib NAME OBJDIR: a copy of the library with OBJDIR's objects replacing its members
  cp "$W/libtflm.a" "$W/lib-$1.a"
  if compgen -G "$2/*.o" > /dev/null; then arm-none-eabi-ar rs "$W/lib-$1.a" "$2"/*.o; fi
}
for op in $OPS; do
  has_type_switch "$op" || continue
  for v in f32 i8; do
    typed_lib "$op-$v" "$W/var/$op-$v"
    echo "op-$op-$v $W/lib-$op-$v.a op-$op" >> "$W/jobs2"
  done
done
if [ "$NOPS" -gt 1 ]; then
  for v in f32 i8; do
    typed_lib "all-$v" "$W/var/all-$v"
    for main in all $(for op in $OPS; do echo "but-$op"; done) $SETS; do
      echo "$main-$v $W/lib-all-$v.a $main" >> "$W/jobs2"
    done
  done
fi
if [ -s "$W/jobs2" ]; then xargs -P "$JOBS" -L1 bash -c 'link "$@"' _ < "$W/jobs2"; fi

# --- numbers -----------------------------------------------------------------------------------------
sz() { [ -s "$W/size/$1" ] || die "no size for $1 (its link failed)"; cat "$W/size/$1"; }
EMPTY="$(flash "$W/prog/empty.elf")"
CORE="$(sz core)"
INTERPRETER=$((CORE - EMPTY))
# CFG: "" (every type path), "-f32", "-i8"
CFGS=""; [ "$NOPS" -gt 1 ] && CFGS="all f32 i8"
cfg_suffix() { case "$1" in all) echo "" ;; *) echo "-$1" ;; esac; }
declare -A ALONE UNIQUE TOGETHER SHARED
for op in $OPS; do
  ALONE[$op]=$(( $(sz "op-$op") - CORE ))
  if has_type_switch "$op"; then
    ALONE[$op-f32]=$(( $(sz "op-$op-f32") - CORE )); ALONE[$op-i8]=$(( $(sz "op-$op-i8") - CORE ))
  fi
done
for c in $CFGS; do
  x="$(cfg_suffix "$c")"
  TOGETHER[$c]=$(( $(sz "all$x") - CORE ))
  usum=0
  for op in $OPS; do UNIQUE[$op-$c]=$(( $(sz "all$x") - $(sz "but-$op$x") )); usum=$((usum + UNIQUE[$op-$c])); done
  SHARED[$c]=$((TOGETHER[$c] - usum))
done
ELAPSED=$((SECONDS - START))

GCC_VERSION="$(arm-none-eabi-gcc --version | head -1)"
SDK_VERSION="$(grep -o 'v[0-9][0-9.]*[0-9]' "$SDK/README.md" | head -1 || true)"
SDK_COMMIT="$(grep -o '[0-9a-f]\{40\}' "$SDK/README.md" | head -1 || true)"
COMPILE="$ARCH $OPT $DEFINES${EXTRA:+ $EXTRA}"
set_ops() { cat "$W/prog/$1.ops"; }

if [ "$JSON" = 1 ]; then
  printf '{"toolchain":"%s","sdkVersion":"%s","sdkCommit":"%s","compileFlags":"%s","linkFlags":"%s",' \
    "$GCC_VERSION" "$SDK_VERSION" "$SDK_COMMIT" "$COMPILE" "$LDFLAGS"
  printf '"emptyMain":%d,"core":%d,"interpreter":%d,"ops":{' "$EMPTY" "$CORE" "$INTERPRETER"
  sep=""
  for op in $OPS; do
    printf '%s"%s":{"alone":%d' "$sep" "$op" "${ALONE[$op]}"
    if has_type_switch "$op"; then printf ',"aloneFloat32":%d,"aloneInt8":%d' "${ALONE[$op-f32]}" "${ALONE[$op-i8]}"; fi
    printf '}'; sep=","
  done
  printf '}'
  if [ -n "$CFGS" ]; then
    printf ',"configs":{'
    csep=""
    for c in $CFGS; do
      x="$(cfg_suffix "$c")"
      printf '%s"%s":{"together":%d,"shared":%d,"unique":{' "$csep" "$c" "${TOGETHER[$c]}" "${SHARED[$c]}"; csep=","
      sep=""; for op in $OPS; do printf '%s"%s":%d' "$sep" "$op" "${UNIQUE[$op-$c]}"; sep=","; done
      printf '},"sets":['
      sep=""
      for s in $SETS; do
        ops="$(set_ops "$s")"; printf '%s{"ops":"%s","measured":%d}' "$sep" "${ops// /,}" $(( $(sz "$s$x") - EMPTY )); sep=","
      done
      printf ']}'
    done
    printf '}'
  fi
  printf ',"seconds":%d}\n' "$ELAPSED"
else
  echo "TFLM code size (flash = text + data of the linked ELF), $GCC_VERSION"
  echo "  SDK $SDK_VERSION ($SDK_COMMIT)"
  echo "  compile: $COMPILE"
  echo "  link:    $LDFLAGS"
  printf '%-18s %7d\n' "empty main" "$EMPTY"
  printf '%-18s %7d   (interpreter, no operator)\n' "core" "$CORE"
  printf '%-18s %7d   (core - empty main)\n' "interpreter" "$INTERPRETER"
  echo
  printf '%-18s %7s %7s %7s' "operator" "alone" "f32" "i8"
  for c in $CFGS; do printf ' %9s' "unique$(cfg_suffix "$c")"; done; echo
  for op in $OPS; do
    if has_type_switch "$op"; then printf '%-18s %7d %7d %7d' "$op" "${ALONE[$op]}" "${ALONE[$op-f32]}" "${ALONE[$op-i8]}"
    else printf '%-18s %7d %7s %7s' "$op" "${ALONE[$op]}" "-" "-"; fi
    for c in $CFGS; do printf ' %9d' "${UNIQUE[$op-$c]}"; done; echo
  done
  if [ -n "$CFGS" ]; then
    printf '%-34s' "shared (together - sum of unique)"; for c in $CFGS; do printf ' %9d' "${SHARED[$c]}"; done; echo
    printf '%-34s' "together ((core + all ops) - core)"; for c in $CFGS; do printf ' %9d' "${TOGETHER[$c]}"; done; echo
  fi
  echo "  alone:  (core + op) - core, every type path; f32 / i8: with the op's other input types disabled"
  if [ -n "$CFGS" ]; then
    echo "  unique: (core + all ops) - (core + all ops but this one); -f32 / -i8: every op restricted"
    echo
    echo "check against a link of each set (bytes above empty main):"
    echo "  A = interpreter + sum of alone; B = interpreter + shared + sum of unique"
    printf '%-62s %6s %6s %6s %6s %6s %6s %6s\n' "set" "meas" "A" "B" "meas32" "B32" "meas8" "B8"
    for s in $SETS; do
      ops="$(set_ops "$s")"; a=$INTERPRETER
      for op in $ops; do a=$((a + ALONE[$op])); done
      printf '%-62s %6d %6d' "${ops// /,}" $(( $(sz "$s") - EMPTY )) "$a"
      for c in $CFGS; do
        x="$(cfg_suffix "$c")"; b=$((INTERPRETER + SHARED[$c]))
        for op in $ops; do b=$((b + UNIQUE[$op-$c])); done
        if [ "$c" = all ]; then printf ' %6d' "$b"; else printf ' %6d %6d' $(( $(sz "$s$x") - EMPTY )) "$b"; fi
      done
      echo
    done
  fi
  echo "took ${ELAPSED}s"
fi
