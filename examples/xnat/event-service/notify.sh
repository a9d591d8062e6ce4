#!/bin/sh
# aspider-notify PROJECT SESSION_ID: POST one archived session to `aspider serve`.
# Run by XNAT's Container Service for an Event Service subscription (see command.json).
# The token comes from /run/secrets/aspider_token (a file baked into this site-local image,
# or mounted by the container backend); it is sent as a header, never printed.
set -eu
project=$1
session=$2
case "$project$session" in
  *[!A-Za-z0-9_-]*|"") echo "aspider-notify: not XNAT IDs: $project $session" >&2; exit 2 ;;
esac
url="${ASPIDER_URL:?set ASPIDER_URL, e.g. http://aspider.example.org:8080}"
token_file=${ASPIDER_TOKEN_FILE:-/run/secrets/aspider_token}
code=$(curl --silent --show-error --max-time 15 --output /dev/null --write-out '%{http_code}' \
  -X POST -H "@-" "$url/api/v1/projects/$project/sessions/$session" <<HEADERS
Authorization: Bearer $(cat "$token_file")
HEADERS
)
echo "aspider-notify: POST $project/$session answered $code"
[ "$code" = 202 ]
