#!/bin/sh
# grokflow: starts the Temporal server on config/docker.yaml (beside this script), which the
# server renders from the environment itself. The `temporal` service of docker-compose.yml
# runs it as its entrypoint, `npm run cluster` as a plain process: the same file both ways.
#
# TEMPORAL_CONFIG_DIR  the folder holding docker.yaml (default: config/ beside this script)
# BIND_ON_IP           0.0.0.0 in a container: the other services are then told the
#                      container's own address (TEMPORAL_BROADCAST_ADDRESS, unless set)
set -eu

: "${TEMPORAL_CONFIG_DIR:=$(cd "$(dirname "$0")" && pwd)/config}"
if [ "${BIND_ON_IP:-127.0.0.1}" = "0.0.0.0" ] && [ -z "${TEMPORAL_BROADCAST_ADDRESS:-}" ]; then
  TEMPORAL_BROADCAST_ADDRESS=$(hostname -i | awk '{print $1}')
  export TEMPORAL_BROADCAST_ADDRESS
fi
# exec: the server is this process, so a stop signal reaches it directly.
exec temporal-server --root / --config "$TEMPORAL_CONFIG_DIR" --env docker start
