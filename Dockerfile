# Edge Impulse custom learning block: `edge-impulse-blocks push` uploads this folder and Edge Impulse builds it.
# Everything is installed at build time: the block has no network when it runs.
FROM node:20-bookworm-slim

# python3/make/g++ build the TFLite interpreter addon and our own kernels addon (node-gyp) during `npm ci`.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
# npm ci runs the package's install script: node-gyp builds native/ into build/Release/dendritic_kernels.node
# (baseline x86-64 code with runtime AVX2 dispatch, so the image runs on any CPU).
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

ENTRYPOINT ["node", "/app/dist/cli.js", "train"]
