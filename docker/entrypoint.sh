#!/bin/sh
# Container entrypoint: wire mounted secrets to the places aspider reads them, then exec aspider.
# Secrets are passed by path, never copied into the environment or printed. A secret that is
# there but cannot be read stops the container at once, naming the file and the uid the image
# runs as: skipped, it would surface later as "no credentials given".
set -eu

secrets=${ASPIDER_SECRETS_DIR:-/run/secrets}

die() {
  echo "aspider-entrypoint: $*" >&2
  exit 2
}

# usable FILE: true if FILE is there and readable; stops the container if it is there but not.
usable() {
  [ -e "$1" ] || return 1
  [ -r "$1" ] && return 0
  uid=$(id -u)
  owner=$(stat -c 'mode %a, owner uid %u' "$1" 2>/dev/null || echo 'mode unknown')
  die "cannot read $1 ($owner): this image runs as uid $uid; on the host, make it readable by that uid (chown $uid FILE, or chmod 0444 FILE)"
}

# check VARIABLE: a path the operator set explicitly must be readable too.
check() {
  eval "path=\${$1:-}"
  if [ -n "$path" ] && ! usable "$path"; then
    die "$1 names $path, which does not exist"
  fi
}

# XNAT password or alias-token secret: aspider reads it from a file path, not from a variable.
if [ -z "${ASPIDER_XNAT__PASSWORD_FILE:-}" ] && usable "$secrets/xnat_password"; then
  export ASPIDER_XNAT__PASSWORD_FILE="$secrets/xnat_password"
fi
# SSH private key for the cluster and its known_hosts (host keys are always verified).
if [ -z "${ASPIDER_CLUSTER__KEY_PATH:-}" ] && usable "$secrets/ssh_key"; then
  export ASPIDER_CLUSTER__KEY_PATH="$secrets/ssh_key"
fi
if [ -z "${ASPIDER_CLUSTER__KNOWN_HOSTS:-}" ] && usable "$secrets/known_hosts"; then
  export ASPIDER_CLUSTER__KNOWN_HOSTS="$secrets/known_hosts"
fi
for variable in ASPIDER_XNAT__PASSWORD_FILE ASPIDER_CLUSTER__KEY_PATH ASPIDER_CLUSTER__KNOWN_HOSTS; do
  check "$variable"
done

# The bearer token `aspider serve` requires of POSTs (needed to listen beyond loopback).
if [ -z "${ASPIDER_SERVE__TOKEN_FILE:-}" ] && [ -r "$secrets/serve_token" ]; then
  export ASPIDER_SERVE__TOKEN_FILE="$secrets/serve_token"
fi

exec aspider "$@"
