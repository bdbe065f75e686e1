// Loaded into live Node pods with `node --import <this file>` (after dns-preload.mjs): a connection to
// the cluster's address ranges (a pod, a Service IP, or a cluster name that resolves to one) leaves
// from the pod's own address TWIN_POD_SOURCE_IP, as it does from a pod's network namespace, so the
// twin's NetworkPolicy rules and its proxies see which pod connects. A socket the program binds
// itself (localAddress) is left alone, and so is every other destination.
import net from 'node:net';
import { resolveCluster } from './dns-preload.mjs';

const source = process.env.TWIN_POD_SOURCE_IP;
const blocks = (process.env.TWIN_CLUSTER_CIDRS || '127.10.0.0/16,127.96.0.0/16')
  .split(',')
  .map((text) => {
    const [ip, bits] = text.trim().split('/');
    const prefix = Number(bits ?? 32);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return { base: (toNumber(ip) & mask) >>> 0, mask };
  })
  .filter((b) => Number.isFinite(b.base));

function toNumber(ip) {
  const parts = String(ip).split('.');
  if (parts.length !== 4) return Number.NaN;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function inCluster(ip) {
  if (net.isIPv4(ip)) return blocks.some((b) => (toNumber(ip) & b.mask) >>> 0 === b.base);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? inCluster(mapped[1]) : false;
}

function targetsCluster(host) {
  if (net.isIP(host)) return inCluster(host);
  const ips = resolveCluster(host);
  return Array.isArray(ips) && ips.length > 0 && inCluster(ips[0]);
}

if (source && net.isIPv4(source)) {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connectFromPod(...args) {
    // net.connect() hands over its normalized [options, callback]; direct calls pass (options[, cb])
    // or (port[, host][, cb]).
    let options;
    let callback;
    if (Array.isArray(args[0])) [options, callback] = args[0];
    else if (args[0] !== null && typeof args[0] === 'object') [options, callback] = args;
    else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
      options = { port: args[0], ...(typeof args[1] === 'string' ? { host: args[1] } : {}) };
      callback = args.find((a) => typeof a === 'function');
    }
    // http's Agent passes path: null.
    const pipe = options && options.path !== undefined && options.path !== null;
    if (!options || pipe || options.localAddress || !targetsCluster(options.host || 'localhost'))
      return connect.apply(this, args);
    const bound = { ...options, localAddress: source };
    return typeof callback === 'function' ? connect.call(this, bound, callback) : connect.call(this, bound);
  };
}
