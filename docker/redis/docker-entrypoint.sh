#!/bin/sh
# The entrypoint of the official redis image (docker-library/redis, 7.0/debian/docker-entrypoint.sh),
# reproduced for the image docker/redis/Dockerfile makes from Debian's packages. Its documented behaviour:
#  - a first argument that is an option (`--port 6380`) or a `.conf` file means `redis-server …`;
#  - `redis-server` started as root hands the working directory (/data) to the redis user and runs as it
#    (gosu); every other command (redis-sentinel, redis-cli, sh) runs as it is, as the user it was given;
#  - the umask becomes 0077 unless one other than 0022 was set.
# One line is this image's own: the official image builds Redis with protected mode off by default (its
# Dockerfile patches the default in config.c); Debian's build keeps it on, so redis-server gets
# `--protected-mode no` unless its arguments or its configuration file set protected-mode.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

if [ "$1" = 'redis-server' ]; then
	set_by_args=
	for a in "$@"; do [ "$a" = '--protected-mode' ] && set_by_args=1; done
	if [ -z "$set_by_args" ] && ! { [ -f "${2:-}" ] && grep -qiE '^[[:space:]]*protected-mode[[:space:]]' "$2"; }; then
		set -- "$@" --protected-mode no
	fi
fi

exec "$@"
