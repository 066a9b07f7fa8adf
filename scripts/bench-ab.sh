#!/usr/bin/env bash
# A/B benchmark of the current build against another revision, side by side in
# one run: builds <base-rev> in a temporary git worktree (its own node_modules
# linked to ours, its native addon built), then alternates redloop-bench runs
# against the two servers, round after round, so that machine noise falls on
# both alike. Prints server CPU µs per request and throughput for each round.
#
#   scripts/bench-ab.sh <base-rev> [rounds] [extra redloop-server flags...]
#   e.g. scripts/bench-ab.sh 087474b 5            # is the current hot path slower?
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/bench-ab.sh <base-rev> [rounds] [server flags...]}
rounds=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
tmp=$(mktemp -d /tmp/redloop-ab-XXXXXX)
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
git worktree add -q --detach "$tmp/base" "$base"
ln -s "$PWD/node_modules" "$tmp/base/node_modules"
(cd "$tmp/base" && npm run install >/dev/null 2>&1) || { echo "cannot build $base's addon" >&2; exit 1; }
(cd "$tmp/base" && npx tsc -p tsconfig.json)
npm run build >/dev/null

start() { # dir → "pid port"
  node "$1/dist/cli/server.js" --port 0 --resp-port 0 --quiet --dir "$tmp" "${@:2}" >"$tmp/ready" 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do grep -q 'redloop ready' "$tmp/ready" 2>/dev/null && break; sleep 0.05; done
  echo "$pid $(grep -o 'resp=[^ ]*' "$tmp/ready" | grep -o '[0-9]*$')"
}
pids=()
read -r pa porta < <(start "$tmp/base" "$@"); pids+=("$pa")
read -r pb portb < <(start "$PWD" "$@"); pids+=("$pb")
echo "A = $base ($(git rev-parse --short "$base")), B = working tree ($(git rev-parse --short HEAD)); server flags: ${*:-none}"
for mix in get set; do
  for P in 1 16; do
    for r in $(seq "$rounds"); do
      for side in A B; do
        if [ $side = A ]; then pid=$pa port=$porta; else pid=$pb port=$portb; fi
        out=$(node dist/cli/bench.js --protocol resp --port "$port" --server-pid "$pid" --mix "$mix" -P "$P" -c 50 -d 2 --prefill --json)
        node -e 'const r=JSON.parse(process.argv[1]); console.log(`${process.argv[2]} ${process.argv[3]} P=${process.argv[4]} round ${process.argv[5]}: ${Math.round(r.throughput)} req/s, ${r.serverCpuUsPerRequest?.toFixed(2)} µs server CPU/req`)' "$out" "$side" "$mix" "$P" "$r"
      done
    done
  done
done
