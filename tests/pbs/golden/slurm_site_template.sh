#!/bin/bash
#SBATCH --job-name=PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d
#SBATCH --output=/work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d/scheduler.log
#SBATCH --chdir=/work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --time=1-12:00:00
#SBATCH --mem=8192M
#SBATCH --partition=long
#SBATCH --account=lab42
#SBATCH --qos=normal
#SBATCH --mail-type=FAIL,END
#SBATCH --mail-user=alice@example.org
#SBATCH --no-requeue
#SBATCH --gres=gpu:1
#SBATCH --mail-user=alice@example.org
#SBATCH --mail-type=FAIL,END
#SBATCH --account=lab42
#SBATCH --ntasks=4
#SBATCH --time=1-12:00:00
#SBATCH --mem=8192mb
#SBATCH -o /work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d/scheduler.log
#SBATCH --constraint=haswell

# Site lines: the lab's modules and scratch, as its DAX settings have them.
module load singularity/3.8 2>/dev/null || true
export TMPDIR=/scratch/$USER
export ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=4
echo "node: $(hostname) job: PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d"
xvfb-run --auto-servernum \
    /bin/sh -c 'JOBDIR=/work/root/PROJ-x-S1-x-E1-x-fs7-x-0a1b2c3d
INPUTS="$JOBDIR/INPUTS"
OUTPUTS="$JOBDIR/OUTPUTS"
export JOBDIR INPUTS OUTPUTS
export SUBJ='"'"'it'"'"'"'"'"'"'"'"'s $(id) `x`'"'"'
export THREADS=4
_status="$JOBDIR/status"
_record() {
    printf '"'"'%s\n'"'"' "$2" > "$_status/.$1.$$" && mv -f "$_status/.$1.$$" "$_status/$1"
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
trap '"'"'_stop TERM 143'"'"' TERM
trap '"'"'_stop INT 130'"'"' INT
trap '"'"'_stop HUP 129'"'"' HUP
_stamp started
(
recon-all -s "$SUBJ" -i "$INPUTS/t1.nii.gz" -sd "$OUTPUTS"
exit $?
) > "$JOBDIR/job.log" 2>&1 < /dev/null &
_child=$!
wait "$_child"
_code=$?
trap - TERM INT HUP
times > "$_status/.times" 2>/dev/null && awk '"'"'NR == 2 { split($1, u, "m"); split($2, s, "m");
    printf "%d\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] + 0.5 }'"'"' "$_status/.times" > "$_status/cpu"
rm -f "$_status/.times"
_record exit_code "$_code"
_stamp finished
exit "$_code"
'
