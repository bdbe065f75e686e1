import type { KubeObject } from '../../../kube/object.ts';
import { CLUSTER_DOMAIN, searchDomains } from '../../network/dns-search.ts';

/** The pod's host name: spec.hostname, else its name (as the kubelet sets the UTS name). */
export function podHostname(pod: KubeObject): string {
  return (pod.spec?.hostname as string | undefined) || pod.metadata.name;
}

/**
 * /etc/hosts as the kubelet writes it for a pod (kubelet_pods.go, managedHostsFileContent): the
 * localhost lines, the pod's own address under its FQDN (with a subdomain) and host name, then
 * spec.hostAliases.
 */
export function podHostsFile(pod: KubeObject, podIp: string): string {
  const ns = pod.metadata.namespace ?? 'default';
  const hostname = podHostname(pod);
  const subdomain = pod.spec?.subdomain as string | undefined;
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    subdomain
      ? `${podIp}\t${hostname}.${subdomain}.${ns}.svc.${CLUSTER_DOMAIN}\t${hostname}`
      : `${podIp}\t${hostname}`,
  ];
  const aliases = (pod.spec?.hostAliases ?? []) as Array<{ ip: string; hostnames?: string[] }>;
  if (aliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * /etc/resolv.conf of a pod with dnsPolicy ClusterFirst (the default): the cluster DNS server, the
 * namespace's search list and ndots:5. `nameserver` is undefined when the twin has no DNS server
 * (then only /etc/hosts answers).
 */
export function podResolvConf(pod: KubeObject, nameserver: string | undefined): string {
  const ns = pod.metadata.namespace ?? 'default';
  const lines = [`search ${searchDomains(ns).join(' ')}`];
  if (nameserver) lines.push(`nameserver ${nameserver}`);
  lines.push('options ndots:5');
  return `${lines.join('\n')}\n`;
}
