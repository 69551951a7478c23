#!/bin/sh
# grokflow: one-shot job of the `temporal-admin-tools` service (docker-compose.yml).
# Creates Temporal's two PostgreSQL databases and brings both schemas up to the version
# that ships in this admin-tools image, with temporal-sql-tool and the postgres12 plugin.
# It runs on every `docker compose up` and is safe to repeat: create-database fails
# harmlessly when the database exists, setup-schema leaves a newer schema alone and
# update-schema applies only what is missing. The temporal server starts only after
# this script exited 0.
#
# temporal-sql-tool reads the connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and
# SQL_PASSWORD (set on the service); the database names come from DBNAME and
# VISIBILITY_DBNAME, the same variables the server reads.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN must be set (postgres12)}"
: "${SQL_HOST:?SQL_HOST must be set}"
: "${DBNAME:?DBNAME must be set}"
: "${VISIBILITY_DBNAME:?VISIBILITY_DBNAME must be set}"
# SCHEMA_ROOT: where the image keeps the schemas; `npm run cluster` points it at the set-up's copy.
SCHEMA_ROOT=${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}

prepare() {
  database=$1
  versioned=$SCHEMA_ROOT/$2/versioned
  if [ ! -d "$versioned" ]; then
    echo "setup-schema: $versioned is missing from this image: is it temporalio/admin-tools?" >&2
    exit 1
  fi
  echo "setup-schema: database $database (schema $versioned)"
  if temporal-sql-tool --db "$database" create-database; then
    echo "setup-schema: created $database"
  else
    # Most often it already exists; a real connection problem fails the next step.
    echo "setup-schema: did not create $database (already there?), going on"
  fi
  temporal-sql-tool --db "$database" setup-schema -v 0.0
  temporal-sql-tool --db "$database" update-schema -d "$versioned"
}

prepare "$DBNAME" temporal
prepare "$VISIBILITY_DBNAME" visibility
echo "setup-schema: $DBNAME and $VISIBILITY_DBNAME are up to date"
