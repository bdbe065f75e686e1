import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { CLUSTER_DOMAIN } from './dns-search.ts';

/** The port every resolver asks (a pod's resolv.conf cannot name another). */
export const DNS_PORT = 53;
const TTL_SECONDS = 5;
const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_NOERROR = 0;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/** A parsed DNS query: the header's id and flags and its one question. */
export interface DnsQuestion {
  id: number;
  recursionDesired: boolean;
  name: string;
  type: number;
  klass: number;
  /** Bytes of the header and the question section, echoed in the answer. */
  questionEnd: number;
}

/** The first question of a DNS message (RFC 1035 4.1), or undefined when it is not a plain query. */
export function parseQuery(msg: Buffer): DnsQuestion | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || ((flags >> 11) & 0xf) !== 0 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return undefined;
    const len = msg[i]!;
    if (len === 0) {
      i++;
      break;
    }
    if (len & 0xc0 || i + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  if (i + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    recursionDesired: (flags & 0x0100) !== 0,
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(i),
    klass: msg.readUInt16BE(i + 2),
    questionEnd: i + 4,
  };
}

/** The answer to `q`: rcode and A or AAAA addresses, the question echoed, authoritative when asked. */
export function encodeAnswer(
  query: Buffer,
  q: DnsQuestion,
  rcode: number,
  addresses: string[],
  authoritative: boolean,
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const flags = 0x8000 | (authoritative ? 0x0400 : 0) | (q.recursionDesired ? 0x0100 : 0) | 0x0080 | rcode;
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const question = query.subarray(12, q.questionEnd);
  const answers = addresses.map((addr) => {
    const rdata = q.type === TYPE_AAAA ? ipv6Bytes(addr) : Buffer.from(addr.split('.').map(Number));
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(TTL_SECONDS, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, question, ...answers]);
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g || '0', 16), i * 2);
  });
  return out;
}

/**
 * The cluster's DNS server (kube-dns) for live programs that resolve names with their own resolver:
 * authoritative for `cluster.local` from the twin's records (A records; AAAA questions for an existing
 * name answer no data; a name without a record is NXDOMAIN, at once, as CoreDNS answers), and other
 * names resolved through the machine's resolver. UDP only; the answers are small.
 *
 * Twin simplification: A records of the twin's ClusterDns only (no SRV, PTR or TCP), and it runs only where port 53 can be bound (root) (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/).
 */
export class DnsServer {
  private socket: Socket | undefined;

  constructor(private readonly addressesOf: (fqdn: string) => string[] | undefined) {}

  /** Listens on ip:53; rejects when the port cannot be bound (port 53 needs root). */
  async start(ip: string, port = DNS_PORT): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      void this.answer(msg).then((reply) => {
        if (reply) socket.send(reply, rinfo.port, rinfo.address, () => {});
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, ip, () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve();
      });
    });
    this.socket = socket;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** The reply to one message, or undefined for what is not a query. */
  async answer(msg: Buffer): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    if (q.klass !== CLASS_IN) return encodeAnswer(msg, q, RCODE_NOTIMP, [], false);
    const name = q.name.replace(/\.$/, '');
    if (name === CLUSTER_DOMAIN || name.endsWith(`.${CLUSTER_DOMAIN}`)) {
      const ips = this.addressesOf(name);
      if (!ips || ips.length === 0) return encodeAnswer(msg, q, RCODE_NXDOMAIN, [], true);
      return encodeAnswer(msg, q, RCODE_NOERROR, q.type === TYPE_A ? ips : [], true);
    }
    if (q.type !== TYPE_A && q.type !== TYPE_AAAA) return encodeAnswer(msg, q, RCODE_NOERROR, [], false);
    try {
      const found = await lookup(name, { family: q.type === TYPE_A ? 4 : 6, all: true });
      return encodeAnswer(
        msg,
        q,
        RCODE_NOERROR,
        found.map((f) => f.address),
        false,
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return encodeAnswer(msg, q, code === 'ENOTFOUND' ? RCODE_NXDOMAIN : RCODE_SERVFAIL, [], false);
    }
  }
}
