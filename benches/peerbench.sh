#!/usr/bin/env bash
# cairn beside rotel on the same OTLP load, one table (issue #8): runs
# ../shared/peerbench/run.sh with rotel first (so every ratio is cairn / rotel)
# and three cairn targets built from this tree in release mode:
#   cairn-full       the whole pipeline with the WAL (fsync) and the archive
#   cairn-blackhole  receive, decode, redact, enrich, drop
#   cairn-forward    cairn (WAL, chains) -> OTLP/gRPC -> cairn blackhole
# beside rotel -> blackhole and rotel -> rotel.
# Extra arguments go to run.sh, e.g. --quick, --protos http, --records 100.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release -p cairn --manifest-path "$ROOT/Cargo.toml" >&2
BIN="$ROOT/target/release/cairn"
CFG="$ROOT/benches/peerbench"
# Each target command runs under bash in the results folder, with P_GRPC,
# P_HTTP, P_AUX_GRPC and P_AUX_HTTP set; single quotes keep them unexpanded.
LISTEN='--grpc-addr 127.0.0.1:$P_GRPC --http-addr 127.0.0.1:$P_HTTP --admin-addr 127.0.0.1:0'
FULL="rm -rf data-full-\$P_HTTP; exec '$BIN' run --config '$CFG/full.toml' $LISTEN --data-dir data-full-\$P_HTTP"
HOLE="rm -rf data-hole-\$P_HTTP; exec '$BIN' run --config '$CFG/blackhole.toml' $LISTEN --data-dir data-hole-\$P_HTTP"
FWD="rm -rf data-up-\$P_HTTP data-down-\$P_HTTP; sed \"s/DOWNSTREAM_GRPC/\$P_AUX_GRPC/\" '$CFG/forward.toml' > forward-\$P_HTTP.toml; \
'$BIN' run --config '$CFG/blackhole.toml' --grpc-addr 127.0.0.1:\$P_AUX_GRPC --http-addr 127.0.0.1:\$P_AUX_HTTP --admin-addr 127.0.0.1:0 --data-dir data-down-\$P_HTTP & \
exec '$BIN' run --config forward-\$P_HTTP.toml $LISTEN --data-dir data-up-\$P_HTTP"
status=0
"$ROOT/../shared/peerbench/run.sh" --rotel \
  --name cairn-full --target-cmd "$FULL" \
  --name cairn-blackhole --target-cmd "$HOLE" \
  --rotel-chain \
  --name cairn-forward --target-cmd "$FWD" \
  "$@" || status=$?
# The targets' data dirs (WAL, archive) stay in the results folders and
# reach gigabytes per run; the tables and logs are kept.
find "${PEERBENCH_WORK:-/tmp/peerbench}/results" -mindepth 2 -maxdepth 2 -type d -name 'data-*' \
  -exec rm -rf {} + 2>/dev/null || true
exit $status
