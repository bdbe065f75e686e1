import { describe, expect, it } from 'vitest';
import {
  addressBlockHeld,
  BLOCK_OCTETS,
  claimAddressBlock,
} from '../../../twin/network/address-allocator.ts';
import {
  applyNft,
  deleteTable,
  listTwinTables,
  nftAvailable,
  tableName,
} from '../../../twin/network/nftables.ts';
import { startNetwork } from './helpers.ts';

const nft = await nftAvailable();

describe.skipIf(!nft.ok)(
  `the twin's nftables tables are removed at down and after a crash (needs root and nftables${nft.ok ? '' : `: ${nft.reason}`})`,
  () => {
    it("a table whose twin is gone is removed by the next twin; a running twin's table is left alone", async () => {
      if (!nft.ok) return;
      const running = claimAddressBlock();
      // A block no process holds, the highest free one: the network below claims the lowest.
      const gone = [...Array(256 / BLOCK_OCTETS).keys()].reverse().find((i) => !addressBlockHeld(i))!;
      const empty = (block: number) => `table ip ${tableName(block)} {\n}\n`;
      await applyNft(nft.nft, empty(running.index));
      await applyNft(nft.nft, empty(gone));
      const { net, log } = await startNetwork();
      try {
        const tables = await listTwinTables(nft.nft);
        expect(tables).not.toContain(gone);
        expect(tables).toContain(running.index);
        expect(log).toContain(
          `network policy: removed the nftables table ${tableName(gone)} of a twin that is gone`,
        );
        expect(net.describePolicyEnforcement()[0]).toMatch(/^NetworkPolicy enforced in the kernel/);
      } finally {
        await net.stop();
        await deleteTable(nft.nft, tableName(running.index));
        running.release();
      }
      const after = await listTwinTables(nft.nft);
      expect(after).not.toContain(running.index);
    });

    it("down removes the twin's own table", async () => {
      if (!nft.ok) return;
      const { net } = await startNetwork();
      // The twin's block, from the third octet of an address it hands out.
      const block = Number(net.allocatePodIp('probe').split('.')[2]) / BLOCK_OCTETS;
      const own = Math.floor(block);
      expect(await listTwinTables(nft.nft)).toContain(own);
      await net.stop();
      expect(await listTwinTables(nft.nft)).not.toContain(own);
    });
  },
);
