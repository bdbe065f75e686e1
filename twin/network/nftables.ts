import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { findBinary } from '../data/binaries.ts';

const run = promisify(execFile);

/** The prefix of every table the twin installs; the suffix is the twin's address block. */
export const TABLE_PREFIX = 'infra_twin_';

export function tableName(block: number): string {
  return `${TABLE_PREFIX}${block}`;
}

export type NftAvailability = { ok: true; nft: string } | { ok: false; reason: string };

let probed: Promise<NftAvailability> | undefined;

/**
 * Whether this process can install nftables rules: it runs as root, `nft` is installed, and the
 * kernel accepts a table (a probe table is created and deleted). Probed once per process.
 */
export function nftAvailable(): Promise<NftAvailability> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<NftAvailability> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `nftables is Linux-only (this is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return { ok: false, reason: 'not running as root (nftables rules need CAP_NET_ADMIN)' };
  const nft = findBinary({ name: 'nft' });
  if (!nft) return { ok: false, reason: 'nft is not installed (apt-get install -y nftables)' };
  const table = `${TABLE_PREFIX}probe_${process.pid}`;
  try {
    await applyNft(nft, `table ip ${table} {\n}\ndelete table ip ${table}\n`);
    return { ok: true, nft };
  } catch (err) {
    return { ok: false, reason: `nft cannot create a table here: ${(err as Error).message.trim()}` };
  }
}

/** Runs an nft script as one transaction (nft -f -): all of it applies, or none. */
export function applyNft(nft: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(nft, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`nft -f - exited with ${code}: ${stderr.trim()}`));
    });
    child.stdin.end(script);
  });
}

/** Deletes a table of the twin; a table that does not exist is no error. */
export async function deleteTable(nft: string, table: string): Promise<void> {
  // Declaring it first makes the delete succeed whether or not it existed, in one transaction.
  await applyNft(nft, `table ip ${table}\ndelete table ip ${table}\n`);
}

/** The twin's tables now installed (`infra_twin_<block>`), by block number. */
export async function listTwinTables(nft: string): Promise<number[]> {
  const { stdout } = await run(nft, ['list', 'tables']);
  const blocks: number[] = [];
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^table ip ${TABLE_PREFIX}(\\d+)$`).exec(line.trim());
    if (m) blocks.push(Number(m[1]));
  }
  return blocks;
}
