# Edge Impulse custom learning block: `edge-impulse-blocks push` uploads this folder and Edge Impulse builds it.
# Everything is installed at build time: the block has no network when it runs.
# Node 22 (LTS, supported until 2027-04-30); the tests also run on Node 20. Not built on the development
# machines (no Docker engine there): its stages were rehearsed in a temporary folder with the same commands
# (README, "Docker image"), and test/commands/entrypoint.test.ts checks the ENTRYPOINT.
#
# Two stages: `build` has the compiler and compiles; the final image has Node, the compiled JavaScript,
# the production node_modules and the two addons, and no compiler, headers or sources.

# ---- build ----------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS build

# linux/amd64 only. node-tflite, the TensorFlow Lite interpreter that measures every .tflite file before it
# is written, ships its TFLite library for x86-64 alone, so there is nothing to link on arm64: say so here
# instead of failing later in a linker error.
RUN arch="$(dpkg --print-architecture)"; if [ "$arch" != amd64 ]; then \
      echo "ERROR: this image builds for linux/amd64 only, not linux/$arch: node-tflite (the TFLite interpreter that measures every exported .tflite) ships an x86-64 TensorFlow Lite library only. On an arm64 machine (Apple Silicon), build it for amd64 (emulated): docker build --platform linux/amd64 ." >&2; \
      exit 1; \
    fi

# python3/make/g++ build the TFLite interpreter addon and our own kernels addon (node-gyp) during `npm ci`.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
# npm ci runs the package's install script: node-gyp builds native/ into build/Release/dendritic_kernels.node
# (baseline x86-64 code with runtime AVX2 dispatch, so the image runs on any CPU). No environment variable:
# no dependency's install script downloads anything (the ONNX runtime is onnxruntime-web, wasm, no script).
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev
# What the final image does not need: build intermediates, and the files of onnxruntime-web and node-tflite
# that Node on linux/amd64 never loads (browser/WebGPU/WebGL bundles and their wasm builds, source maps,
# the macOS/Windows TFLite libraries and the headers).
RUN find build node_modules/node-tflite/build -mindepth 1 -maxdepth 2 ! -path '*/Release' ! -name '*.node' ! -name '*.so' -exec rm -rf {} + \
 && rm -rf node_modules/node-tflite/tflite node_modules/node-tflite/index.cc \
 && find node_modules/onnxruntime-web/dist -type f ! -name 'ort.node.min.mjs' ! -name 'ort-wasm-simd-threaded.mjs' ! -name 'ort-wasm-simd-threaded.wasm' -delete \
 && find node_modules -name '*.map' -delete \
 && node -e "import('onnxruntime-web').then(() => require('node-tflite')).then(() => console.log('runtimes load'))"

# ---- final ----------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/dendritic_kernels.node ./build/Release/
ENTRYPOINT ["node", "/app/dist/cli.js", "train"]
