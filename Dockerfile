# Edge Impulse custom learning block: `edge-impulse-blocks push` uploads this folder and Edge Impulse builds it.
# Everything is installed at build time: the block has no network when it runs.
# Node 22 (LTS, supported until 2027-04-30); the tests also run on Node 20. Not built here (no image pulls
# on the development machines): checked by reading, and by test/commands/entrypoint.test.ts for the ENTRYPOINT.
FROM node:22-bookworm-slim

# python3/make/g++ build the TFLite interpreter addon and our own kernels addon (node-gyp) during `npm ci`.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The npm of node:22 images (10.x) predates package.json's allowScripts, which keeps onnxruntime-node's
# install script (a download of CUDA binaries) from running under newer npm; here the variable does it.
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
