import { expect, test } from "bun:test";
import { MintPool, mintPendingTicksMax, mintPoolMax, mintRelayGraceTicks } from "../../src/node/mint-pool.ts";
import type { MintTx } from "../../src/types/mint.ts";
import { thrownCode } from "../thrown-code.ts";
import { PhantomError } from "../../src/errors.ts";

const tip = new Uint8Array(32).fill(1);
const mint = (height: bigint, prev = tip): MintTx => ({ prevMint: prev, height, targetBits: 8, recipient: new Uint8Array(32), nonce: height });
const id = (n: number) => new Uint8Array(32).fill(n);

test("one mint per height, bounded, carried once; relayed ones are taken over after the grace period", () => {
  const pool = new MintPool();
  expect(pool.add(id(1), mint(5n), false, 0)).toBe(true);
  expect(pool.add(id(1), mint(5n), false, 0)).toBe(false); // same mint again
  expect(thrownCode(() => pool.add(id(2), mint(5n), false, 0), PhantomError, "none")).toBe("MINT_ALREADY_PENDING");
  expect(pool.toCarry().map((m) => m.mint.height)).toEqual([5n]);
  pool.markCarried(pool.toCarry());
  expect(pool.toCarry()).toEqual([]);
  pool.age(mintRelayGraceTicks + 1);
  expect(pool.toCarry()).toEqual([]); // ours, already on chain: never carried twice

  expect(pool.add(id(3), mint(6n), true, 10)).toBe(true); // relayed: its validator carries it
  expect(pool.toCarry()).toEqual([]);
  pool.age(10 + mintRelayGraceTicks - 1);
  expect(pool.toCarry()).toEqual([]);
  pool.age(10 + mintRelayGraceTicks);
  expect(pool.toCarry().map((m) => m.mint.height)).toEqual([6n]);
});

test("final and stale mints leave; so do mints past their deadline", () => {
  const pool = new MintPool();
  pool.add(id(1), mint(1n), false, 0);
  pool.add(id(2), mint(2n, id(9)), false, 0);
  pool.add(id(3), mint(3n), false, 5);
  pool.onApplied([id(1)], tip); // id(1) final; id(2) builds on another tip: it can never apply
  expect(pool.size).toBe(1);
  pool.age(5 + mintPendingTicksMax);
  expect(pool.size).toBe(0);
  for (let i = 0; i < mintPoolMax; i++) pool.add(id(i), mint(BigInt(100 + i)), false, 0);
  expect(thrownCode(() => pool.add(id(200), mint(999n), false, 0), PhantomError, "none")).toBe("MINT_POOL_FULL");
});
