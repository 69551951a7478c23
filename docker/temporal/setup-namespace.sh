#!/bin/sh
# grokflow: one-shot job of the `temporal-setup` service (docker-compose.yml), run once
# the temporal server is up: registers the namespace and grokflow's custom search
# attributes, then waits until the frontend accepts queries on them, so that the master
# never starts a workflow with an attribute the server does not know yet. Safe to repeat.
#
# TEMPORAL_ADDRESS   host:port of the frontend
# TEMPORAL_NAMESPACE the namespace grokflow uses (default: default)
# NAMESPACE_RETENTION how long closed workflows are kept (default: 168h)
# SEARCH_ATTRIBUTES  space-separated Name=Type pairs, e.g. "JobId=Int JobType=Keyword"
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be set}"
: "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES must be set}"
NS=${TEMPORAL_NAMESPACE:-default}
RETENTION=${NAMESPACE_RETENTION:-168h}

# Runs "$@" until it succeeds, at most $TRIES times (default 90), 2 s apart.
TRIES=${TRIES:-90}
retry() {
  what=$1
  shift
  n=0
  until "$@" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge "$TRIES" ]; then
      echo "setup-namespace: gave up waiting for $what; the last try said:" >&2
      "$@" >&2 || true
      exit 1
    fi
    sleep 2
  done
}

serving() {
  temporal operator cluster health --address "$TEMPORAL_ADDRESS" | grep -q SERVING
}

echo "setup-namespace: waiting for the server at $TEMPORAL_ADDRESS"
retry "the server to serve" serving

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NS" >/dev/null 2>&1; then
  echo "setup-namespace: namespace $NS exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NS" --retention "$RETENTION"
  echo "setup-namespace: created namespace $NS (retention $RETENTION)"
fi

# A new namespace reaches the frontend's cache a few seconds after it is created.
retry "namespace $NS" temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NS"
existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NS")

for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if printf '%s\n' "$existing" | grep -qw -- "$name"; then
    echo "setup-namespace: search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NS" --name "$name" --type "$type"
    echo "setup-namespace: created search attribute $name ($type)"
  fi
done

# The attribute is usable once a visibility query that names it is accepted. IS NOT NULL
# suits every type (a string compared with an Int attribute is an error on SQL visibility).
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  retry "search attribute $name" temporal workflow count --address "$TEMPORAL_ADDRESS" --namespace "$NS" --query "$name IS NOT NULL"
done
echo "setup-namespace: namespace $NS and search attributes ready"
