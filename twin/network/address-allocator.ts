import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwinError } from '../../core/errors.ts';
import { processRuns } from '../../core/process.ts';

/**
 * Hands out stable loopback addresses from one /16: the same key gets the same address until it is
 * released. Linux routes all of 127.0.0.0/8 to lo, so every address can be bound without setup.
 */
export class AddressAllocator {
  private readonly byKey = new Map<string, string>();
  private readonly used = new Set<number>();
  private next = 0;
  /** Third octets this allocator may hand out (inclusive); the whole /16 unless narrowed. */
  private range: [number, number] = [0, 255];

  /** `prefix` is the first two octets ("127.10"); hosts .0 and .1 of every /24 are skipped, and .255. */
  constructor(
    readonly prefix: string,
    private readonly label: string,
  ) {}

  get size(): number {
    return this.used.size;
  }

  /** Narrows allocation to the /24s whose third octet is in [first, last] (one twin's address block). */
  narrow(first: number, last: number): void {
    this.range = [first, last];
    this.next = Math.max(this.next, first << 8);
  }

  /** The address of `key`, allocating one on first use. */
  allocate(key: string): string {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;
    for (let i = 0; i < 65536; i++) {
      const n = (this.next + i) % 65536;
      const host = n & 0xff;
      const third = n >> 8;
      if (third < this.range[0] || third > this.range[1]) continue;
      if (host < 2 || host === 255 || this.used.has(n)) continue;
      this.used.add(n);
      this.next = (n + 1) % 65536;
      const ip = `${this.prefix}.${n >> 8}.${host}`;
      this.byKey.set(key, ip);
      return ip;
    }
    throw new TwinError(
      'TWIN_INVALID',
      `no free ${this.label} address left in ${this.prefix}.0.0/16; delete unused objects or run a smaller topology`,
    );
  }

  /** Marks an address as taken by `key` (an object that already carries one). False when it is outside the range or taken by another key. */
  reserve(key: string, ip: string): boolean {
    const n = this.indexOf(ip);
    if (n === undefined) return false;
    const owner = this.byKey.get(key);
    if (owner === ip) return true;
    if (this.used.has(n)) return false;
    if (owner !== undefined) this.release(key);
    this.used.add(n);
    this.byKey.set(key, ip);
    return true;
  }

  release(key: string): void {
    const ip = this.byKey.get(key);
    if (ip === undefined) return;
    this.byKey.delete(key);
    const n = this.indexOf(ip);
    if (n !== undefined) this.used.delete(n);
  }

  addressOf(key: string): string | undefined {
    return this.byKey.get(key);
  }

  contains(ip: string): boolean {
    return this.indexOf(ip) !== undefined;
  }

  private indexOf(ip: string): number | undefined {
    if (!ip.startsWith(`${this.prefix}.`)) return undefined;
    const rest = ip.slice(this.prefix.length + 1).split('.');
    if (rest.length !== 2) return undefined;
    const [a, b] = rest.map(Number) as [number, number];
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || a > 255 || b < 2 || b > 254)
      return undefined;
    return (a << 8) | b;
  }
}

export const POD_CIDR = '127.10.0.0/16';
export const SERVICE_CIDR = '127.96.0.0/16';
/** The modelled pod addresses of emulated pods: never bound, so a connection to one is refused. */
export const EMULATED_POD_CIDR = '127.128.0.0/9';

/** Third octets per twin: 16 twins on one machine, each with 16 × 253 pod and Service addresses. */
export const BLOCK_OCTETS = 16;
const BLOCKS = 256 / BLOCK_OCTETS;
const BLOCK_DIR = join(tmpdir(), 'infra-twin-address-blocks');
const heldHere = new Set<number>();

/**
 * Claims an address block for one twin, so that twins running at once on this machine (a `twin up`
 * beside a scenario, parallel test files) never bind the same pod or Service address. A lock file per
 * block holds the owner's pid; a block whose owner has exited is taken over.
 */
export function claimAddressBlock(): { index: number; first: number; last: number; release(): void } {
  mkdirSync(BLOCK_DIR, { recursive: true });
  for (let index = 0; index < BLOCKS; index++) {
    if (heldHere.has(index)) continue;
    const file = join(BLOCK_DIR, String(index));
    let fd: number | undefined;
    try {
      fd = openSync(file, 'wx');
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {}
      if (owner && owner !== process.pid && processRuns(owner)) continue;
      rmSync(file, { force: true }); // stale: its owner exited, or an earlier twin of this process
      try {
        fd = openSync(file, 'wx');
      } catch {
        continue; // another process took it first
      }
    }
    writeSync(fd, String(process.pid));
    closeSync(fd);
    heldHere.add(index);
    return {
      index,
      first: index * BLOCK_OCTETS,
      last: index * BLOCK_OCTETS + BLOCK_OCTETS - 1,
      release: () => {
        heldHere.delete(index);
        rmSync(file, { force: true });
      },
    };
  }
  throw new TwinError(
    'TWIN_INVALID',
    `all ${BLOCKS} loopback address blocks are held by running twins (see ${BLOCK_DIR}); stop one with \`twin down\``,
  );
}

/** Whether a running process holds address block `index` (its lock file names a live pid). */
export function addressBlockHeld(index: number): boolean {
  try {
    const owner = Number(readFileSync(join(BLOCK_DIR, String(index)), 'utf8'));
    return owner > 0 && processRuns(owner);
  } catch {
    return false;
  }
}

/** Second octets of EMULATED_POD_CIDR per twin's address block: 8, a /13 of 524,288 addresses. */
const EMULATED_OCTETS_PER_BLOCK = 128 / BLOCKS;

/**
 * Pod IPs of emulated pods, which have no process to bind them: each twin's address block gets a /13
 * of EMULATED_POD_CIDR (about 520,000 addresses, hosts .0 and .255 of each /24 skipped), handed out
 * round-robin like a node's IPAM and released with the pod. Only live pods take an address of the
 * bindable 127.10.0.0/16 block (4,048 per twin).
 * Twin simplification: an emulated pod's IP is modelled and never bound; on a cluster every pod's
 * sandbox holds its address (a connection to an emulated pod is refused instead of reaching a process).
 */
export class EmulatedPodAddresses {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();
  private first = 0;
  private size = EMULATED_OCTETS_PER_BLOCK * 65536;
  private next = 0;

  constructor(block = 0) {
    this.narrow(block);
  }

  /** Uses the /13 of address block `index` (address-allocator.ts claimAddressBlock). */
  narrow(index: number): void {
    this.first = (127 * 2 ** 24 + (128 + index * EMULATED_OCTETS_PER_BLOCK) * 65536) >>> 0;
    this.next = 0;
  }

  get allocated(): number {
    return this.used.size;
  }

  allocate(key: string): string {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return toIp(existing);
    for (let i = 0; i < this.size; i++) {
      const n = this.first + ((this.next + i) % this.size);
      const host = n & 0xff;
      if (host === 0 || host === 255 || this.used.has(n)) continue;
      this.used.add(n);
      this.next = (n - this.first + 1) % this.size;
      this.byKey.set(key, n);
      return toIp(n);
    }
    throw new TwinError(
      'TWIN_INVALID',
      `no free address left for an emulated pod in ${toIp(this.first)}/13; delete pods or run a smaller topology`,
    );
  }

  /** Marks an address as taken by `key`; false when it is outside this twin's range or taken by another key. */
  reserve(key: string, ip: string): boolean {
    const n = this.indexOf(ip);
    if (n === undefined) return false;
    if (this.byKey.get(key) === n) return true;
    if (this.used.has(n)) return false;
    this.release(key);
    this.used.add(n);
    this.byKey.set(key, n);
    return true;
  }

  release(key: string): void {
    const n = this.byKey.get(key);
    if (n === undefined) return;
    this.byKey.delete(key);
    this.used.delete(n);
  }

  contains(ip: string): boolean {
    return this.indexOf(ip) !== undefined;
  }

  private indexOf(ip: string): number | undefined {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
    return n >= this.first && n < this.first + this.size ? n : undefined;
  }
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function podAddressAllocator(): AddressAllocator {
  return new AddressAllocator('127.10', 'pod IP');
}

export function serviceAddressAllocator(): AddressAllocator {
  return new AddressAllocator('127.96', 'Service ClusterIP');
}

/** Checks that addresses beyond 127.0.0.1 can be bound (true on Linux; macOS needs lo0 aliases). */
export async function assertLoopbackRange(probe = '127.10.0.2'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new TwinError(
          'TWIN_LOOPBACK_UNAVAILABLE',
          `cannot bind ${probe} (${err.code ?? err.message}): the twin gives pods addresses in ${POD_CIDR} and ` +
            `Services in ${SERVICE_CIDR}. Linux routes all of 127.0.0.0/8 to lo; on macOS add lo0 aliases first, e.g. ` +
            `\`for i in $(seq 2 254); do sudo ifconfig lo0 alias 127.10.0.$i up; sudo ifconfig lo0 alias 127.96.0.$i up; done\`, ` +
            'or use the k3d environment',
          { cause: err },
        ),
      );
    });
    server.listen({ host: probe, port: 0, exclusive: true }, () => server.close(() => resolve()));
  });
}
