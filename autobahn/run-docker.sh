#!/usr/bin/env bash
# Runs the real Autobahn testsuite (crossbario/autobahn-testsuite) against
# duplex with Docker. Reports land in autobahn/reports/{servers,clients}.
#   autobahn/run-docker.sh server   # fuzzingclient tests our echo server
#   autobahn/run-docker.sh client   # fuzzingserver tests our client
set -euo pipefail
cd "$(dirname "$0")"
image=crossbario/autobahn-testsuite
mode=${1:-server}
mkdir -p reports
case "$mode" in
server)
  go run ./echoserver -addr 0.0.0.0:9001 -compress &
  pid=$!
  trap 'kill $pid' EXIT
  sleep 2
  docker run --rm --add-host=host.docker.internal:host-gateway \
    -v "$PWD:/config" -v "$PWD/reports:/reports" \
    "$image" wstest -m fuzzingclient -s /config/fuzzingclient.json
  ;;
client)
  docker run -d --rm --name duplex-fuzzingserver -p 9001:9001 \
    -v "$PWD:/config" -v "$PWD/reports:/reports" \
    "$image" wstest -m fuzzingserver -s /config/fuzzingserver.json
  trap 'docker stop duplex-fuzzingserver >/dev/null' EXIT
  sleep 3
  go run ./echoclient -url ws://127.0.0.1:9001 -agent duplex -compress
  ;;
*)
  echo "usage: $0 server|client" >&2
  exit 2
  ;;
esac
echo "report: autobahn/reports/${mode}s/index.html"
