#!/bin/sh
# Container entrypoint: wire mounted secrets to the places aspider reads them, then exec aspider.
# Secrets are never copied into the environment of child processes or printed.
set -eu

secrets=${ASPIDER_SECRETS_DIR:-/run/secrets}

# XNAT password or alias-token secret: aspider reads it from a file path, not from a variable.
if [ -z "${ASPIDER_XNAT__PASSWORD_FILE:-}" ] && [ -r "$secrets/xnat_password" ]; then
  export ASPIDER_XNAT__PASSWORD_FILE="$secrets/xnat_password"
fi
# SSH private key for the cluster and its known_hosts (host keys are always verified).
if [ -z "${ASPIDER_CLUSTER__KEY_PATH:-}" ] && [ -r "$secrets/ssh_key" ]; then
  export ASPIDER_CLUSTER__KEY_PATH="$secrets/ssh_key"
fi
if [ -z "${ASPIDER_CLUSTER__KNOWN_HOSTS:-}" ] && [ -r "$secrets/known_hosts" ]; then
  export ASPIDER_CLUSTER__KNOWN_HOSTS="$secrets/known_hosts"
fi

# The bearer token `aspider serve` requires of POSTs (needed to listen beyond loopback).
if [ -z "${ASPIDER_SERVE__TOKEN_FILE:-}" ] && [ -r "$secrets/serve_token" ]; then
  export ASPIDER_SERVE__TOKEN_FILE="$secrets/serve_token"
fi

exec aspider "$@"
