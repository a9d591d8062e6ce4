# shellcheck shell=bash
# shellcheck disable=SC2154  # dir, repo, log, ...: set by tests/cluster/up, which sources this
# Sourced by tests/cluster/up: a login node reachable only through a bastion.
#
# The login node's listener lives in a network namespace of its own (its loopback is not the
# machine's), so nothing on this machine can reach it except the bastion, whose sshd runs in
# that namespace. Both are OpenSSH in inetd mode (`sshd -i`), started per connection by socat:
#
#   client -> 127.0.0.1:<bastion port>  socat (machine namespace)
#          -> sshd -i, bastion config    (login namespace: sees 127.0.0.2)
#          -> 127.0.0.2:<login port>     socat (login namespace, direct-tcpip from the bastion)
#          -> sshd -i, login config      (machine namespace again: Slurm, munge, work root)
#
# The login node's sessions run in the machine's namespace, so they reach slurmctld and
# slurmdbd on 127.0.0.1 like the direct sshd's sessions do.

behind_host=127.0.0.2

bastion_files() {
  local s=$dir/ssh
  [ -s "$s/bastion_host_key" ] || ssh-keygen -q -t ed25519 -N '' -C aspider-test-bastion -f "$s/bastion_host_key"
  [ -s "$s/behind_host_key" ] || ssh-keygen -q -t ed25519 -N '' -C aspider-test-behind -f "$s/behind_host_key"
  cat >"$dir/etc/bastion_sshd_config" <<CONF
HostKey $s/bastion_host_key
AuthorizedKeysFile $s/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding local
PermitOpen $behind_host:$(cat "$s/behind_port")
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
ForceCommand /bin/false
CONF
  sed -e '/^Port /d' -e '/^ListenAddress /d' -e '/^PidFile /d' \
    -e "s|^HostKey .*|HostKey $s/behind_host_key|" "$dir/etc/sshd_config" >"$dir/etc/behind_sshd_config"
  # Each connection: sshd -i in the right namespace, the socket as its stdin and stdout.
  cat >"$dir/etc/bastion-session" <<SH
#!/bin/sh
exec nsenter --net=/proc/\$(cat $dir/run/behind-listener.pid)/ns/net \\
  /usr/sbin/sshd -i -f $dir/etc/bastion_sshd_config -E $dir/log/bastion-sshd.log
SH
  cat >"$dir/etc/behind-session" <<SH
#!/bin/sh
exec nsenter --net=/proc/\$(cat $dir/munge-run/munged.pid)/ns/net \\
  /usr/sbin/sshd -i -f $dir/etc/behind_sshd_config -E $dir/log/behind-sshd.log
SH
  chmod 755 "$dir/etc/bastion-session" "$dir/etc/behind-session"
}

start_behind_listener() {
  if alive "$dir/run/behind-listener.pid" behind-session && [ -s "$dir/ssh/behind_port" ]; then
    bastion_files
    return 0
  fi
  stop_pid "$dir/run/behind-listener.pid" behind-session
  free_port >"$dir/ssh/behind_port"
  bastion_files
  # unshare execs sh, which execs socat: $! is socat's pid, inside the new namespace.
  setsid unshare --net sh -c "ip link set lo up && exec socat \
    TCP-LISTEN:$(cat "$dir/ssh/behind_port"),bind=$behind_host,reuseaddr,fork \
    EXEC:$dir/etc/behind-session,nofork" </dev/null >>"$dir/log/behind-listener.log" 2>&1 &
  echo $! >"$dir/run/behind-listener.pid"
  wait_for 10 "the login node's listener" sh -c \
    "nsenter --net=/proc/$!/ns/net ss -ltn | grep -q '$behind_host:$(cat "$dir/ssh/behind_port") '"
}

start_bastion() {
  local port
  # The sessions read their configuration and the listeners' pids per connection: a restarted
  # login listener needs no new bastion.
  if alive "$dir/run/bastion.pid" bastion-session && [ -s "$dir/ssh/bastion_port" ]; then return 0; fi
  stop_pid "$dir/run/bastion.pid" bastion-session
  port=$(free_port)
  echo "$port" >"$dir/ssh/bastion_port"
  setsid socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork \
    EXEC:"$dir/etc/bastion-session",nofork </dev/null >>"$dir/log/bastion.log" 2>&1 &
  echo $! >"$dir/run/bastion.pid"
  wait_for 10 "the bastion" sh -c "ssh-keyscan -p $port 127.0.0.1"
}

# known_hosts for every hop, and an ssh config naming them as people do.
write_ssh_client_files() {
  local s=$dir/ssh
  {
    printf '[127.0.0.1]:%s %s\n' "$(cat "$s/port")" "$(cut -d' ' -f1,2 "$s/host_ed25519_key.pub")"
    if [ -s "$s/bastion_port" ]; then
      printf '[127.0.0.1]:%s %s\n' "$(cat "$s/bastion_port")" "$(cut -d' ' -f1,2 "$s/bastion_host_key.pub")"
      printf '[%s]:%s %s\n' "$behind_host" "$(cat "$s/behind_port")" "$(cut -d' ' -f1,2 "$s/behind_host_key.pub")"
    fi
  } >"$s/known_hosts.tmp"
  mv "$s/known_hosts.tmp" "$s/known_hosts"
  {
    echo "# Written by tests/cluster/up: the loopback cluster as a lab's ~/.ssh/config names it."
    [ -s "$s/bastion_port" ] && bastion_config
    direct_config
  } >"$s/config"
}

bastion_config() {
  local s=$dir/ssh
  cat <<CONF
Host aspider-bastion
    HostName 127.0.0.1
    Port $(cat "$s/bastion_port")
    User $(id -un)
    IdentityFile $s/client_key
    UserKnownHostsFile $s/known_hosts
    StrictHostKeyChecking yes

Host aspider-login
    HostName $behind_host
    Port $(cat "$s/behind_port")
    User $(id -un)
    IdentityFile $s/client_key
    UserKnownHostsFile $s/known_hosts
    StrictHostKeyChecking yes
    ProxyJump aspider-bastion
    ForwardAgent yes

CONF
}

direct_config() {
  local s=$dir/ssh
  cat <<CONF
Host aspider-direct
    HostName 127.0.0.1
    Port $(cat "$s/port")
    User $(id -un)
    IdentityFile $s/client_key
    UserKnownHostsFile $s/known_hosts
    StrictHostKeyChecking yes
CONF
}

# The profile's entries for the two hops (nothing when there is no bastion).
bastion_profile() {
  local s=$dir/ssh
  [ -s "$s/bastion_port" ] || return 0
  cat <<JSON
,
  "bastion": {"alias": "aspider-bastion", "host": "127.0.0.1", "port": $(cat "$s/bastion_port"),
              "host_key": "$(cut -d' ' -f1,2 "$s/bastion_host_key.pub")"},
  "behind_bastion": {"alias": "aspider-login", "host": "$behind_host", "port": $(cat "$s/behind_port"),
                     "host_key": "$(cut -d' ' -f1,2 "$s/behind_host_key.pub")"}
JSON
}

check_bastion_path() {
  wait_for 15 "a login through the bastion (ssh -F $dir/ssh/config aspider-login)" \
    ssh -F "$dir/ssh/config" -o BatchMode=yes -o ConnectTimeout=5 aspider-login true
}
