# syntax=docker/dockerfile:1
#
# Rialto's container image: the `rialto` command line on Node 20, running `rialto start` by default.
#
# Two stages. `build` installs every dependency (TypeScript is a dev dependency) and compiles src/ to
# dist/src/; `runtime` installs the production dependencies alone and takes only the compiled code, so the
# image holds neither the compiler nor the sources. The runtime runs as a numeric non-root user and writes only
# to /data (journal, snapshots, LOCK, client order ids and, without DATABASE_URL, the embedded PGlite database),
# so it runs with a read-only root filesystem (`docker run --read-only -v rialto-data:/data ...`).
#
# The base image is pinned to an exact Node release on Debian bookworm; test/deploy/image.test.ts runs these
# stages' commands with the machine's Node of the same major release. To pin a digest too, take it from the
# registry when releasing (`docker buildx imagetools inspect node:20.20.2-bookworm-slim`), then append
# `@sha256:...` to both FROM lines.
# docs/deployment.md explains each choice.

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the one dependency that has any (argon2) ships prebuilt binaries that it loads at run time.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json
# A fresh PGlite data directory as a tarball (scripts/pglite-template.js): the embedded store's first start
# unpacks it instead of running initdb in WebAssembly, about two seconds less.
COPY scripts/pglite-template.js ./scripts/
RUN node scripts/pglite-template.js

FROM node:20.20.2-bookworm-slim AS runtime
# pg_dump and pg_restore, for `rialto backup` and `rialto restore` in production mode (docs/backup.md): Debian's
# client of PostgreSQL 15, the major release of the server in deploy/compose.yaml. pg_dump refuses a server of
# a newer major release, so a newer server needs a newer client here. Pinned to the exact Debian version, as the
# base image is; when bookworm's security archive moves on, take the new one from
# `apt-cache policy postgresql-client-15` in the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15=15.20-0+deb12u1 \
 && rm -rf /var/lib/apt/lists/*
# Production mode refuses to start without a way to verify tokens (RIALTO_JWT_SECRET or RIALTO_JWT_PUBLIC_KEY),
# with authentication or rate limits off, or with debug logging: the image is for running a venue, not a demo.
ENV NODE_ENV=production \
    RIALTO_MODE=production \
    RIALTO_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/pglite-template ./dist/pglite-template
# The data directory belongs to the venue's user; a new named volume mounted on it starts with this owner.
RUN mkdir -p /data && chown 10001:10001 /data && chmod 0700 /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# Node is PID 1 here, without an init: `rialto start` handles SIGTERM itself (drains requests, writes a
# snapshot, exits 0) and starts no child processes, so there are no orphans to reap.
STOPSIGNAL SIGTERM
# Liveness through Node's own fetch: the slim image has no curl. Every start replays the whole journal before
# it listens (about 12 us a record on 2 cores: docs/deployment.md, start time), hence the start period.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30m --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
