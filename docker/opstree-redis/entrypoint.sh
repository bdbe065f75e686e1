#!/bin/bash
# The entrypoint of the OT redis image (OT-CONTAINER-KIT/redis, entrypoint.sh), reproduced for the image
# docker/opstree-redis/Dockerfile makes from Debian's packages. It appends to /etc/redis/redis.conf from the
# environment, in this order, then runs redis-server with it:
#  - PERSISTENCE_ENABLED (default false), DATA_DIR (/data), NODE_CONF_DIR (/node-conf),
#    EXTERNAL_CONFIG_FILE (/etc/redis/external.conf.d/redis-additional.conf), REDIS_MAJOR_VERSION (v7);
#  - the data and node-conf directories are created;
#  - REDIS_PASSWORD: masterauth, requirepass and protected-mode yes; without it protected-mode no;
#  - SETUP_MODE=cluster: cluster-enabled yes, cluster-node-timeout 5000, cluster-require-full-coverage
#    no, cluster-migration-barrier 1, cluster-config-file <NODE_CONF_DIR>/nodes.conf, and the `myself`
#    line of an existing nodes.conf pointed at the pod's address (`hostname -i`);
#  - PERSISTENCE_ENABLED=true: save 900 1, save 300 10, save 60 10000, appendonly yes,
#    appendfilename "appendonly.aof", dir <DATA_DIR>;
#  - TLS_MODE=true: TLS on port 6379 with REDIS_TLS_CERT, REDIS_TLS_CERT_KEY, REDIS_TLS_CA_KEY (and TLS for
#    replication and the cluster bus in cluster mode);
#  - ACL_MODE=true: aclfile /etc/redis/user.acl;
#  - an existing EXTERNAL_CONFIG_FILE is included;
#  - cluster mode: cluster-announce-ip (the pod's address, or node-ip-<hostname> with NODEPORT=true) and
#    cluster-announce-hostname (the host name), in the file for Redis 7, as arguments before it.
set -a

PERSISTENCE_ENABLED=${PERSISTENCE_ENABLED:-"false"}
DATA_DIR=${DATA_DIR:-"/data"}
NODE_CONF_DIR=${NODE_CONF_DIR:-"/node-conf"}
EXTERNAL_CONFIG_FILE=${EXTERNAL_CONFIG_FILE:-"/etc/redis/external.conf.d/redis-additional.conf"}
REDIS_MAJOR_VERSION=${REDIS_MAJOR_VERSION:-"v7"}
CONF=/etc/redis/redis.conf

make_directories() {
	mkdir -p "${DATA_DIR}" "${NODE_CONF_DIR}"
}

password_settings() {
	if [[ -z "${REDIS_PASSWORD}" ]]; then
		echo "Redis is running without password which is not recommended"
		echo "protected-mode no" >> "$CONF"
	else
		printf 'masterauth %s\nrequirepass %s\nprotected-mode yes\n' "${REDIS_PASSWORD}" "${REDIS_PASSWORD}" >> "$CONF"
	fi
}

mode_settings() {
	if [[ "${SETUP_MODE}" == "cluster" ]]; then
		printf '%s\n' 'cluster-enabled yes' 'cluster-node-timeout 5000' 'cluster-require-full-coverage no' \
			'cluster-migration-barrier 1' "cluster-config-file ${NODE_CONF_DIR}/nodes.conf" >> "$CONF"
		POD_HOSTNAME=$(hostname)
		POD_IP=$(hostname -i)
		sed -i -e "/myself/ s/[0-9]\{1,3\}\.[0-9]\{1,3\}\.[0-9]\{1,3\}\.[0-9]\{1,3\}/${POD_IP}/" "${NODE_CONF_DIR}/nodes.conf"
	else
		echo "Setting up redis in standalone mode"
	fi
}

tls_settings() {
	if [[ "${TLS_MODE}" == "true" ]]; then
		printf '%s\n' 'port 0' 'tls-port 6379' "tls-cert-file ${REDIS_TLS_CERT}" "tls-key-file ${REDIS_TLS_CERT_KEY}" \
			"tls-ca-cert-file ${REDIS_TLS_CA_KEY}" 'tls-auth-clients optional' >> "$CONF"
		if [[ "${SETUP_MODE}" == "cluster" ]]; then
			printf '%s\n' 'tls-replication yes' 'tls-cluster yes' 'cluster-preferred-endpoint-type hostname' >> "$CONF"
		fi
	else
		echo "Running without TLS mode"
	fi
}

acl_settings() {
	if [[ "$ACL_MODE" == "true" ]]; then
		echo "aclfile /etc/redis/user.acl" >> "$CONF"
	else
		echo "ACL_MODE is not true, skipping ACL file modification"
	fi
}

persistence_settings() {
	if [[ "${PERSISTENCE_ENABLED}" == "true" ]]; then
		printf '%s\n' 'save 900 1' 'save 300 10' 'save 60 10000' 'appendonly yes' 'appendfilename "appendonly.aof"' \
			"dir ${DATA_DIR}" >> "$CONF"
	else
		echo "Running without persistence mode"
	fi
}

start_server() {
	if [[ "${SETUP_MODE}" == "cluster" ]]; then
		echo "Starting redis service in cluster mode....."
		if [[ "${NODEPORT}" == "true" ]]; then
			CLUSTER_ANNOUNCE_IP="node-ip-$(hostname)"
		else
			CLUSTER_ANNOUNCE_IP="${POD_IP}"
		fi
		if [[ "${REDIS_MAJOR_VERSION}" != "v7" ]]; then
			redis-server "$CONF" --cluster-announce-ip "${CLUSTER_ANNOUNCE_IP}" --cluster-announce-hostname "${POD_HOSTNAME}"
		else
			printf 'cluster-announce-ip %s\ncluster-announce-hostname %s\n' "${CLUSTER_ANNOUNCE_IP}" "${POD_HOSTNAME}" >> "$CONF"
			redis-server "$CONF"
		fi
	else
		echo "Starting redis service in standalone mode....."
		redis-server "$CONF"
	fi
}

make_directories
password_settings
mode_settings
persistence_settings
tls_settings
acl_settings
if [[ -f "${EXTERNAL_CONFIG_FILE}" ]]; then
	echo "include ${EXTERNAL_CONFIG_FILE}" >> "$CONF"
fi
start_server
