# syntax=docker/dockerfile:1.7
# istio-upgrade-operator: Node 24 LTS, production dependencies only, distroless, non-root, read-only root fs.
# Build: docker build -t ghcr.io/istio-upgrade-operator/istio-upgrade-operator:0.1.0 .

ARG NODE_IMAGE=node:24.21.0-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the image already runs Node 24, so the `node` dev dependency's installer is not needed.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/prune-node-modules.sh ./
# Source maps, type declarations and docs are not needed at run time (halves node_modules).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && sh prune-node-modules.sh node_modules && npm cache clean --force

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=production-dependencies /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The numeric user of distroless "nonroot", so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 9464
# Node is PID 1: the operator handles SIGTERM itself (drains the pass under way, releases the lease).
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
