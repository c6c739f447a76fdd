#
# The Mutua coordinator. The image runs the JavaScript that scripts/build.mjs bundles from
# the TypeScript sources (server/dist; no transpiler at run time) and the server applies
# the database migrations itself at start, so the container's command is the server and
# nothing else. Without DATABASE_URL it keeps an SQLite file in /data; with a
# postgresql:// DATABASE_URL (docker-compose.yml) it uses PostgreSQL. What the image holds,
# its size, and a check that builds and runs it here: docs/deployment.md,
# scripts/check-image.sh. Builds with the classic builder or BuildKit, offline too (no
# `# syntax=` frontend to fetch).
#
#   docker build -t mutua .
#   docker run -d -p 8080:8080 -v mutua-data:/data -e MUTUA_ADMIN_TOKEN="$(openssl rand -base64 24)" mutua
#
# server/test/container-command.test.ts runs this file's CMD with its ENV (parsed from
# here), so keep CMD in exec form and ENV as KEY=value pairs.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- base: the lockfile and every workspace manifest (npm ci checks them all), nothing
# else, so that only a dependency change re-runs the npm ci steps below (a change in prisma/,
# the sources or the docs does not).
FROM ${NODE_IMAGE} AS base
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY core/package.json core/
COPY server/package.json server/
COPY client-node/package.json client-node/
COPY client-web/package.json client-web/

# ---- deps: production dependencies of the server and the workspaces it imports (proto, core).
# Install scripts are skipped (no downloads, e.g. of the optional tfjs-node the server
# never loads); the one native module, better-sqlite3, is compiled from source here.
FROM base AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# node-gyp uses the headers shipped with this Node instead of downloading them.
ENV npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    --workspace=@mutua/server --include-workspace-root \
  && npm rebuild better-sqlite3 --build-from-source

# ---- build: the coordinator's JavaScript. The generated Prisma clients and the workspaces
# it imports (proto, core) are bundled into server/dist, and so are most npm packages
# (scripts/build.mjs). esbuild and the Prisma generator are dev dependencies, installed here only.
FROM base AS build
RUN npm ci --ignore-scripts --no-audit --no-fund --workspace=@mutua/server --include-workspace-root
COPY prisma.config.ts tsconfig.base.json tsconfig.json ./
COPY prisma/ prisma/
RUN node prisma/scripts/db.mjs generate
COPY scripts/build.mjs scripts/
COPY scripts/build scripts/build
COPY proto/src proto/src
COPY core/src core/src
COPY server/src server/src
RUN node scripts/build.mjs --only server

# ---- runtime-modules: of the deps stage's node_modules, only what server/dist loads at run
# time (found from the build: scripts/runtime-modules.mjs), the data sets gzipped. No
# TypeScript, Prisma CLI or engines, @tensorflow.
FROM deps AS runtime-modules
COPY scripts/runtime-modules.mjs scripts/
COPY --from=build /app/server/dist server/dist
RUN node scripts/runtime-modules.mjs /runtime

# ---- web: the dashboard and join page the coordinator serves at / and /join/<token>.
FROM base AS web
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY proto/src proto/src
COPY core/src core/src
COPY client-web/ client-web/
RUN npm run build --workspace=@mutua/client-web

# ---- the coordinator
FROM ${NODE_IMAGE}
# The coordinator's V8 heap limit, as `npm start` sets it (package.json; see
# docs/deployment.md "Memory"): below 2 GB V8 lets the old generation grow less past what is
# live. Raise or lower it with `-e NODE_OPTIONS=--max-old-space-size=N`.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=1536 \
    MUTUA_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=runtime-modules /runtime/node_modules node_modules/
COPY package.json ./
COPY server/package.json server/
COPY server/bin server/bin
# The migrations, applied by the server at start (server/src/db/migrate.ts).
COPY prisma/sqlite/migrations prisma/sqlite/migrations/
COPY prisma/postgres/migrations prisma/postgres/migrations/
COPY --from=build /app/server/dist server/dist
COPY --from=web /app/client-web/dist client-web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (graceful shutdown: participants
# are told, pending writes finish, the database is closed).
CMD ["node", "server/bin/mutua-server.js"]
