#!/bin/sh
# Makes local stand-ins for the three base images the Dockerfile and docker-compose.yml
# name, for a machine where no image registry is reachable (docs/deployment.md, "Building
# without a registry"). Each is tagged with the official name, so the Dockerfile and the
# compose file are used unchanged:
#
#   debian:bookworm-slim   debootstrap --variant=minbase from the Debian mirror apt uses,
#                          trimmed (docs, man pages, locales, apt lists)
#   node:20-bookworm-slim  that, plus this machine's Node 20 (binary, headers, npm) in
#                          /usr/local as in the official image, a `node` user (uid 1000),
#                          and this machine's CA certificates (NOT in the official image:
#                          `npm ci` in the build stages needs them to reach the registry)
#   postgres:16            that, plus Debian's postgresql-15 (bookworm has no 16) and a
#                          small entrypoint honouring POSTGRES_USER/PASSWORD/DB
#
# and, with --cluster, the two more that docker-compose.yml's "cluster" profile names:
#
#   nats:2.11-alpine       debian:bookworm-slim plus Debian's nats-server (2.9.10: JetStream
#                          and KV as the cluster uses them; the host's NATS is the same
#                          version) and busybox's wget for the health check, with the
#                          official image's entrypoint (`-js ...` runs `nats-server -js ...`)
#   haproxy:2.8            debian:bookworm-slim plus Debian's haproxy (2.6.12), run as the
#                          haproxy user with the official image's command and entrypoint
#                          (master-worker, logs to stderr, config in /usr/local/etc/haproxy)
#
# These are stand-ins with the official names, not the official images: the versions
# differ as said, and Debian is not Alpine. deploy/haproxy/mutua-cluster.cfg and the
# cluster's use of NATS keep to what both versions support.
# Debian's own nodejs package is not used: bookworm's is 18.19, and package.json asks for
# node >=20.10.
#
# Usage (as root, with the engine reachable through DOCKER_HOST):
#   scripts/container-base-images.sh [--force] [--cluster]
# Environment: DOCKER (default /usr/bin/docker, Debian's client), MIRROR (default: the
# first Debian URI in /etc/apt/sources.list*), NODE_BIN (default: `command -v node`).
set -eu

DOCKER=${DOCKER:-/usr/bin/docker}
FORCE=
CLUSTER=
for arg in "$@"; do
  case "$arg" in
  --force) FORCE=--force ;;
  --cluster) CLUSTER=1 ;;
  *) echo "usage: $0 [--force] [--cluster]" >&2; exit 2 ;;
  esac
done
NODE_BIN=${NODE_BIN:-$(command -v node)}

have() { [ "$FORCE" != --force ] && "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -E '^[[:space:]]*(URIs:|deb )' | grep -oE 'https?://[^ ]*/debian/?' | head -n1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if have debian:bookworm-slim; then
  echo "debian:bookworm-slim: present"
else
  echo "debian:bookworm-slim: debootstrap from $MIRROR"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log"; exit 1; }
  R="$WORK/rootfs"
  rm -rf "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/* \
    "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb "$R"/var/log/*.log
  # apt inside the image reaches the same mirror.
  echo "deb $MIRROR bookworm main" >"$R/etc/apt/sources.list"
  tar -C "$R" -c . | "$DOCKER" import - debian:bookworm-slim >/dev/null
  rm -rf "$R"
fi

if have node:20-bookworm-slim; then
  echo "node:20-bookworm-slim: present"
else
  echo "node:20-bookworm-slim: debian:bookworm-slim + $NODE_BIN ($("$NODE_BIN" --version))"
  NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$NODE_BIN")")")
  mkdir -p "$WORK/node/bin" "$WORK/node/include" "$WORK/node/lib/node_modules"
  cp "$NODE_BIN" "$WORK/node/bin/node"
  cp -r "$NODE_PREFIX/include/node" "$WORK/node/include/"
  cp -r "$NODE_PREFIX/lib/node_modules/npm" "$WORK/node/lib/node_modules/"
  cp /etc/ssl/certs/ca-certificates.crt "$WORK/ca-certificates.crt"
  cat >"$WORK/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# As the official image's: `docker run IMAGE --flag` runs `node --flag`.
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "${1:-}" 2>/dev/null)" ]; then set -- node "$@"; fi
exec "$@"
EOF
  cat >"$WORK/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
COPY node/ /usr/local/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY docker-entrypoint.sh /usr/local/bin/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && chmod +x /usr/local/bin/docker-entrypoint.sh \
  && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
  && node --version && npm --version
ENV NODE_VERSION=20 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF
  DOCKER_BUILDKIT=0 "$DOCKER" build -q -t node:20-bookworm-slim "$WORK" >/dev/null
fi

if have postgres:16; then
  echo "postgres:16: present"
else
  echo "postgres:16: debian:bookworm-slim + Debian's postgresql-15"
  mkdir -p "$WORK/pg"
  cat >"$WORK/pg/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official postgres image's entrypoint: POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB on first start, data in PGDATA (a volume), the server in the foreground.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >/tmp/pwfile
  chown postgres /tmp/pwfile
  su postgres -c "$PGBIN/initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256" >/dev/null
  rm -f /tmp/pwfile
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    su postgres -c "$PGBIN/postgres --single -D '$PGDATA' postgres" >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
  fi
  echo "initialized $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
exec su postgres -c "exec $PGBIN/postgres -D '$PGDATA' -c listen_addresses='*'"
EOF
  cat >"$WORK/pg/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN mkdir -p /etc/postgresql-common/createcluster.d \
  && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/no-main.conf \
  && apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
  && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
  && ln -s /usr/lib/postgresql/15/bin/pg_isready /usr/local/bin/pg_isready
COPY docker-entrypoint.sh /usr/local/bin/
RUN chmod +x /usr/local/bin/docker-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
EOF
  DOCKER_BUILDKIT=0 "$DOCKER" build -q --network host -t postgres:16 "$WORK/pg" >/dev/null
fi

if [ -n "$CLUSTER" ]; then
  if have nats:2.11-alpine; then
    echo "nats:2.11-alpine: present"
  else
    echo "nats:2.11-alpine: debian:bookworm-slim + Debian's nats-server"
    mkdir -p "$WORK/nats"
    cat >"$WORK/nats/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official nats:*-alpine image's: `docker run IMAGE -js` runs `nats-server -js`.
set -e
if [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi
exec "$@"
EOF
    cat >"$WORK/nats/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends nats-server busybox \
  && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
  && ln -s /bin/busybox /usr/local/bin/wget && nats-server --version
COPY docker-entrypoint.sh /usr/local/bin/
RUN chmod +x /usr/local/bin/docker-entrypoint.sh
EXPOSE 4222 6222 8222
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["nats-server"]
EOF
    DOCKER_BUILDKIT=0 "$DOCKER" build -q --network host -t nats:2.11-alpine "$WORK/nats" >/dev/null
  fi

  if have haproxy:2.8; then
    echo "haproxy:2.8: present"
  else
    echo "haproxy:2.8: debian:bookworm-slim + Debian's haproxy"
    mkdir -p "$WORK/haproxy"
    cat >"$WORK/haproxy/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official haproxy image's: flags go to haproxy, run master-worker in the foreground.
set -e
if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi
if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi
exec "$@"
EOF
    cat >"$WORK/haproxy/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends haproxy \
  && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
  && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy && chown haproxy:haproxy /var/lib/haproxy \
  && haproxy -v
COPY docker-entrypoint.sh /usr/local/bin/
RUN chmod +x /usr/local/bin/docker-entrypoint.sh
USER haproxy
WORKDIR /var/lib/haproxy
STOPSIGNAL SIGUSR1
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
EOF
    DOCKER_BUILDKIT=0 "$DOCKER" build -q --network host -t haproxy:2.8 "$WORK/haproxy" >/dev/null
  fi
fi

"$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' |
  grep -E '^(debian:bookworm-slim|node:20-bookworm-slim|postgres:16|nats:2.11-alpine|haproxy:2.8) '
