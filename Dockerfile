# syntax=docker/dockerfile:1

# Raven Zero: build with the dev toolchain, run with production dependencies only.
# Node 24 is the current LTS; the app itself needs Node 20.19+ (package.json "engines").

# ---- build ------------------------------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /app

# Dependencies first, so editing the source does not invalidate this layer. npm ci runs the
# `prepare` script (svelte-kit sync), which needs the devDependencies installed here.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
RUN npm run build \
	&& npm prune --omit=dev

# ---- runtime ----------------------------------------------------------------------------
FROM node:24-slim AS runtime
WORKDIR /app

ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
# The process settings of `npm start`; server/shared.js (NODE_FLAGS, SERVER_ENV) says why.
ENV MALLOC_ARENA_MAX=2

# The code stays owned by root, so the server cannot rewrite itself; only the two folders it
# writes to (encrypted uploads and their temp files, the rotating log) belong to `node`.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY --from=build /app/server ./server
COPY --from=build /app/data ./data
RUN mkdir -p /app/storage /app/logs \
	&& chown node:node /app/storage /app/logs

USER node
EXPOSE 3000

# The slim image has no curl; Node's own fetch asks /health/ (200 healthy, 503 degraded).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
	CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/').then((r) => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"]

# Node runs as PID 1 on purpose: server/index.js handles SIGTERM itself (graceful shutdown).
CMD ["node", "--initial-old-space-size=32", "server/index.js"]
