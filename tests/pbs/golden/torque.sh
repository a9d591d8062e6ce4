#!/bin/sh
#PBS -N PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d
#PBS -l nodes=1:ppn=4,mem=8192mb,walltime=36:00:00
#PBS -q long
#PBS -A lab42
#PBS -m ae
#PBS -M alice@example.org
#PBS -j oe
#PBS -o /work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d/scheduler.log
#PBS -W group_list=imaging
JOBDIR=/work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d
INPUTS="$JOBDIR/INPUTS"
OUTPUTS="$JOBDIR/OUTPUTS"
export JOBDIR INPUTS OUTPUTS
export SUBJ='it'"'"'s $(id) `x`'
export THREADS=4
_status="$JOBDIR/status"
_record() {
    printf '%s\n' "$2" > "$_status/.$1.$$" && mv -f "$_status/.$1.$$" "$_status/$1"
}
_stamp() {
    date +%s > "$_status/$1"
}
_stop() {
    trap - TERM INT HUP
    [ -n "${_child:-}" ] && kill -TERM "$_child" 2>/dev/null
    _record signal "$1"
    _stamp finished
    exit "$2"
}
cd "$JOBDIR" || exit 1
for _d in "$_status" "$INPUTS" "$OUTPUTS"; do
    [ -d "$_d" ] || mkdir -p "$_d" || exit 1
done
trap '_stop TERM 143' TERM
trap '_stop INT 130' INT
trap '_stop HUP 129' HUP
_stamp started
(
recon-all -s "$SUBJ" -i "$INPUTS/t1.nii.gz" -sd "$OUTPUTS"
exit $?
) > "$JOBDIR/job.log" 2>&1 < /dev/null &
_child=$!
wait "$_child"
_code=$?
trap - TERM INT HUP
times > "$_status/.times" 2>/dev/null && awk 'NR == 2 { split($1, u, "m"); split($2, s, "m");
    printf "%d\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] + 0.5 }' "$_status/.times" > "$_status/cpu"
rm -f "$_status/.times"
_record exit_code "$_code"
_stamp finished
exit "$_code"
