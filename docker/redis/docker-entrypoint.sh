#!/bin/sh
# The official redis image's entrypoint contract, written for this image.
set -e

# `docker run redis -–appendonly yes` and `docker run redis /etc/redis.conf` both mean redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = 'redis-server' ]; then
  # The official image builds Redis with protected mode off by default (a container is reached through
  # its published port, never from loopback); Debian's build keeps it on, so turn it off unless the
  # arguments name a config file or protected-mode themselves.
  case "$2" in
    *.conf) ;;
    *) case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac ;;
  esac
  if [ "$(id -u)" = '0' ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    umask 0077
    exec gosu redis "$0" "$@"
  fi
fi

exec "$@"
