#!/bin/bash
# Ours: the part of a DAX v3 job that decides what its command sees, for the differential
# tests: DAX's build writes its variables (INLIST, JOBDIR, INDIR, MAINCMD...) in place of the
# placeholder below; then the job logs in with ~/.netrc, downloads each INLIST line as DAX's
# job_template_v3 does (FILE: the file as <fdest>; DIRJ: the resource zipped, unpacked flat;
# DIR: zipped in XNAT's simplified layout, unpacked, */out/* moved up), and runs
# `eval $MAINCMD`. The zips stay in INPUTS, as in a DAX job. No random start delay, no session
# count, no upload: they change timing, not what the command sees.
${job_cmds}
mkdir -p "$INDIR" "$OUTDIR"
session=$(curl -s -n "$XNATHOST/data/JSESSION")
fetch() {  # url, file: the HTTP status
    curl -s -o "$2" -w '%{http_code}' -b "JSESSIONID=$session" "$1"
}
for line in "${INLIST[@]}"; do
    IFS=',' read -r dest kind url <<< "$line"
    case $kind in
    FILE) code=$(fetch "$url" "$INDIR/$dest") ;;
    DIRJ) code=$(fetch "$url?format=zip" "$INDIR/$dest.zip") &&
          unzip -q -j "$INDIR/$dest.zip" -d "$INDIR/$dest" ;;
    *)    code=$(fetch "$url?format=zip&structure=simplified" "$INDIR/$dest.zip") &&
          unzip -q "$INDIR/$dest.zip" -d "$INDIR/$dest" &&
          { mv "$INDIR/$dest"/*/out/* "$INDIR/$dest" 2>/dev/null || true; } ;;
    esac
    [ "$code" = 200 ] || { echo "download of $url: $code"; exit 1; }
done
eval $MAINCMD
