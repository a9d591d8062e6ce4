# shellcheck shell=bash
# shellcheck disable=SC2154  # dir, repo, log, ...: set by tests/cluster/up, which sources this
# Sourced by tests/cluster/up: Slurm accounting, so that `sacct` is real. A private MariaDB
# (unix socket and 127.0.0.1 only, its data under $dir/mysql) and slurmdbd in front of it.
# Each start_* sets fresh_<name>=1 when it (re)started its daemon, so that the daemons that
# depend on it restart too and learn its new port.

fresh_mariadb=0
fresh_slurmdbd=0

start_mariadb() {
  local m=$dir/mysql run=$dir/mysql-run port
  if alive "$run/mariadbd.pid" mariadbd && [ -s "$m/port" ]; then return 0; fi
  mkdir -p "$m/data" "$run"
  chown -R mysql:mysql "$m" "$run"
  chmod 750 "$m"
  port=$(free_port)
  cat >"$dir/etc/my.cnf" <<CNF
[mariadbd]
datadir=$m/data
socket=$run/mysqld.sock
pid-file=$run/mariadbd.pid
port=$port
bind-address=127.0.0.1
skip-name-resolve
skip-log-bin
log-error=$dir/log/mariadb.log
performance_schema=OFF
# slurmdbd's recommended minimums (it logs an error below them)
innodb_buffer_pool_size=128M
innodb_log_file_size=64M
innodb_lock_wait_timeout=900
CNF
  if [ ! -d "$m/data/mysql" ]; then
    mariadb-install-db --defaults-file="$dir/etc/my.cnf" --user=mysql --skip-test-db \
      --auth-root-authentication-method=socket >"$dir/log/mariadb-install.log" 2>&1 ||
      die "mariadb-install-db failed (see $dir/log/mariadb-install.log)"
  fi
  rm -f "$run/mariadbd.pid" "$run/mysqld.sock"
  setsid mariadbd --defaults-file="$dir/etc/my.cnf" --user=mysql </dev/null >/dev/null 2>&1 &
  wait_for 30 mariadb mariadb --socket="$run/mysqld.sock" -e 'select 1'
  echo "$port" >"$m/port"
  fresh_mariadb=1
}

# The database user's password is made anew whenever slurmdbd's configuration is written; it
# lives only in slurmdbd.conf (root, 0600), as on a real site.
write_slurmdbd_conf() {
  local password dbd_port
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  mariadb --socket="$dir/mysql-run/mysqld.sock" <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
  dbd_port=$(free_port)
  (
    umask 077
    cat >"$dir/etc/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$dir/munge-run/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$(cat "$dir/mysql/port")
StorageUser=slurm
StoragePass=$password
StorageLoc=slurm_acct_db
PidFile=$dir/run/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
CONF
  )
  echo "$dbd_port" >"$dir/etc/slurmdbd.port"
}

start_slurmdbd() {
  export SLURM_CONF=$dir/etc/slurm.conf
  if [ "$fresh_mariadb" = 0 ] && alive "$dir/run/slurmdbd.pid" slurmdbd; then return 0; fi
  stop_pid "$dir/run/slurmdbd.pid" slurmdbd
  write_slurmdbd_conf
  # slurmdbd finds slurmdbd.conf beside slurm.conf ($SLURM_CONF); the cluster's own slurm.conf
  # may not exist yet, and slurmdbd does not need it.
  slurmdbd
  wait_for 60 slurmdbd sh -c "ss -ltn | grep -q ':$(cat "$dir/etc/slurmdbd.port") '"
  fresh_slurmdbd=1
}

# sacctmgr talks to slurmdbd, which it finds through slurm.conf: call once slurm.conf exists.
register_cluster() {
  export SLURM_CONF=$dir/etc/slurm.conf
  wait_for 30 "slurmdbd to answer" timeout 10 sacctmgr -n list cluster
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx aspidertest; then
    sacctmgr -i add cluster aspidertest >/dev/null
  fi
}
