// Cluster DNS for live pods of the twin, loaded with `node --import <this file>`.
// Names resolve from the JSON file in TWIN_DNS_FILE (re-read when it changes) with the search rules of
// a pod's resolv.conf (search <ns>.svc.cluster.local svc.cluster.local cluster.local, ndots:5);
// other names go to the system resolver. dns.lookup is what net, http and fetch (undici) call.
import dns from 'node:dns';
import { readFileSync, statSync } from 'node:fs';

const file = process.env.TWIN_DNS_FILE;
const namespace = process.env.TWIN_POD_NAMESPACE || 'default';
const domains = [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'];

let cached = { key: '', records: {} };

function records() {
  if (!file) return cached.records;
  try {
    const st = statSync(file);
    const key = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (key !== cached.key) cached = { key, records: JSON.parse(readFileSync(file, 'utf8')).records ?? {} };
  } catch {
    // A missing or half-written file keeps the last records.
  }
  return cached.records;
}

/** The addresses of a cluster name as a pod in TWIN_POD_NAMESPACE resolves it; undefined for other names. */
export function resolveCluster(hostname) {
  if (typeof hostname !== 'string' || hostname === '') return undefined;
  const name = hostname.toLowerCase();
  let candidates;
  if (name.endsWith('.')) candidates = [name.slice(0, -1)];
  else {
    const expanded = domains.map((d) => `${name}.${d}`);
    candidates = name.split('.').length - 1 >= 5 ? [name, ...expanded] : [...expanded, name];
  }
  const table = records();
  for (const c of candidates) {
    const ips = table[c];
    if (Array.isArray(ips) && ips.length > 0) return ips;
  }
  return undefined;
}

function familyOf(options) {
  if (typeof options === 'number') return options;
  const f = options?.family;
  if (f === 'IPv4') return 4;
  if (f === 'IPv6') return 6;
  return typeof f === 'number' ? f : 0;
}

const originalLookup = dns.lookup;
function lookup(hostname, options, callback) {
  let opts = options;
  let cb = callback;
  if (typeof opts === 'function') {
    cb = opts;
    opts = {};
  }
  const ips = familyOf(opts) === 6 ? undefined : resolveCluster(hostname);
  if (!ips) return originalLookup.call(dns, hostname, options, callback);
  if (typeof opts === 'object' && opts?.all)
    process.nextTick(
      cb,
      null,
      ips.map((address) => ({ address, family: 4 })),
    );
  else process.nextTick(cb, null, ips[0], 4);
  return {};
}
dns.lookup = lookup;

const promises = dns.promises;
const originalPromisesLookup = promises.lookup;
promises.lookup = async function lookupPromise(hostname, options) {
  const ips = familyOf(options) === 6 ? undefined : resolveCluster(hostname);
  if (!ips) return originalPromisesLookup.call(promises, hostname, options);
  if (typeof options === 'object' && options?.all) return ips.map((address) => ({ address, family: 4 }));
  return { address: ips[0], family: 4 };
};
