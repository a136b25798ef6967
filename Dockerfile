# The Writer relay (sync-server/) as a container image. The desktop app is not in it.
#
#   docker build -t writer-relay .
#   docker run -d --init -p 127.0.0.1:8787:8787 -v writer-relay-data:/data writer-relay
#
# or, with Caddy in front for TLS, `docker compose up -d` (compose.yaml).
# sync-server/README.md, "Docker", says how to create tokens, read logs, back up and upgrade.
#
# No Docker engine runs in CI: test/integration/relay-deploy.test.ts reads this file and
# runs its steps itself (the COPYs, each RUN with sh -c, the CMD, the HEALTHCHECK), and
# test/unit/relayDeploy.test.ts checks what it promises (user, volume, healthcheck, port).
# A change here is what those tests test.

# Pinned to one release so that a rebuild gets the same Node and a Node upgrade is a
# change someone made. 20 because the relay supports Node 20.19 and later and is tested
# on 20; the slim Debian image because the relay needs nothing from the full one.
FROM node:20.20.2-bookworm-slim AS deps
WORKDIR /app
# Only what `npm ci` reads, so that this layer (the slow one) is built again only when the
# dependencies change, not on every change to the relay. patches/: npm ci's postinstall
# (patch-package, a runtime dependency) applies them to automerge-repo, and the relay
# needs them.
COPY package.json package-lock.json ./
COPY patches ./patches
# Runtime dependencies only: no TypeScript, no TypeScript loader at run time, no Electron,
# no test tools. npm's download cache stays in this stage, out of the image.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    RELAY_HOST=0.0.0.0 \
    RELAY_PORT=8787 \
    RELAY_DATA_DIR=/data
WORKDIR /app
# The code belongs to root and the relay runs as another user, so the running relay
# cannot change its own code. package.json: the version, and `npm run relay` in a shell.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# The relay compiled to plain JavaScript (npm run build:relay; committed): it imports
# only packages from node_modules, nothing else from the repository.
COPY sync-server/dist ./sync-server/dist
# Created and given to the relay's user before VOLUME: a new named volume starts as a copy
# of this directory, owner included, so the relay can write to it. (Changes made to it
# after VOLUME would be discarded.)
RUN mkdir /data && chown node:node /data
VOLUME /data
# 1000 is the base image's unprivileged `node` user; numeric, so that runtimes that
# refuse to run as root (Kubernetes' runAsNonRoot) can check it without /etc/passwd.
USER 1000:1000
EXPOSE 8787
# Slim images have no curl: Node's own fetch asks /healthz, which answers 200 while the
# relay serves and 503 while it shuts down or its disk refuses saves. RELAY_PORT, so that
# the check follows a port changed with `-e RELAY_PORT=...`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.RELAY_PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# On SIGTERM the relay stops accepting connections, writes everything to disk and exits 0
# (`docker stop`; allow it more than Docker's 10 s default, as compose.yaml does).
STOPSIGNAL SIGTERM
# Exec form: node is the process that receives the signal, not a shell that would swallow
# it. As PID 1, node would ignore SIGTERM if the relay did not install its own handler
# (it does), and it reaps no orphans; run with `docker run --init` (compose.yaml:
# `init: true`) so that a small init (tini) is PID 1, passes signals on and reaps.
CMD ["node", "sync-server/dist/cli.mjs"]
