# Build stage: dev dependencies compile the api, the worker and the console.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: production dependencies and the built output only, run as the unprivileged `node` user.
FROM node:24-bookworm-slim
WORKDIR /app
# The api's memory (bench/abuse-replay.ts): large transient buffers (uploads, inflated archives, argon2) are mapped
# and unmapped rather than left in glibc's arenas, and the api's V8 young generation keeps 2 MiB semi-spaces
# instead of growing them to tens of MiB.
ENV NODE_ENV=production DATA_DIR=/data MALLOC_MMAP_THRESHOLD_=131072
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# Heaps grow to twice their live size before a full collection: each photo's megabytes outside the heap otherwise
# set off one every few predictions (BENCHMARKS.md, 2026-12-03).
CMD ["node", "--max-semi-space-size=2", "--heap-growing-percent=100", "dist/apps/api/src/main.js"]
