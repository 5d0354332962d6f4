#!/bin/sh
# Run once by the postgres image when it makes its data directory (docker-entrypoint-initdb.d):
# the role the app connects as. The tables belong to POSTGRES_USER, which runs the migrations;
# `manage.py migrate` grants this role what the app needs, never to rewrite the timeline
# (runbook/db_roles.py). On a database made before this script existed, run it by hand:
#   docker compose exec db sh /docker-entrypoint-initdb.d/10-app-role.sh
set -eu
: "${APP_DB_USER:=runbook_app}"
: "${APP_DB_PASSWORD:?set APP_DB_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_user="$APP_DB_USER" -v app_password="$APP_DB_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
-- It may connect, and use what it is granted; it makes no tables of its own.
GRANT CONNECT ON DATABASE :"db" TO :"app_user";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
