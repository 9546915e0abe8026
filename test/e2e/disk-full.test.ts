// A real validator process whose disk fills up (issue 11 item 4): three `phantom
// P2pQuicListen` processes over QUIC; validator 2's store sits on a small tmpfs that the
// test fills. It must log one `fatal` STORE_WRITE_FAILED line and exit with status 74
// (bounded wait), leave a database that passes integrity_check, and, once there is room
// again, restart on that store and finalize with the others. Where a tmpfs cannot be
// mounted (not root), SQLite's own page limit makes the same SQLITE_FULL, through the
// test-only PHANTOM_TEST_STORE_GROWTH_PAGES_MAX variable.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { STORE_FILE_NAME } from "../../src/store/sqlite-store.ts";
import { EXIT_STORE_WRITE_FAILED } from "../../src/node/fail-stop.ts";
import { TEST_STORE_GROWTH_PAGES_ENV } from "../../src/cli/commands/p2p-quic-listen.ts";
import { BIN, freePorts, until } from "../wallet/localnet-harness.ts";

const K = 3;
const VICTIM = 2;
/** The store's room in env mode (pages of 4 KiB): it fills within seconds of starting. */
const GROWTH_PAGES = 8;
const FILL_CHUNK_BYTES = 64 * 1024;
const TMPFS_BYTES = 16 * 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), "phantom-diskfull-"));
const mountPoint = join(dir, "tmpfs");
mkdirSync(mountPoint);
const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${TMPFS_BYTES}`, "tmpfs", mountPoint], { stdout: "pipe", stderr: "pipe" });
const tmpfs = mount.exitCode === 0;
if (!tmpfs) console.log(`disk-full test: cannot mount a tmpfs (${mount.stderr.toString().trim() || `exit ${mount.exitCode}`}); using ${TEST_STORE_GROWTH_PAGES_ENV} instead`);
afterAll(() => {
  if (tmpfs) Bun.spawnSync(["umount", mountPoint]);
  rmSync(dir, { recursive: true, force: true });
});

describe("a validator whose disk fills up", () => {
  test("exits 74 with one STORE_WRITE_FAILED line; its store passes integrity_check, reopens and catches up", async () => {
    const ports = await freePorts();
    const created = createGenesis({ k: K, devnetLabel: "e2e-disk-full", basePort: ports.p2p, initialTargetBits: 10 });
    const genesisPath = join(dir, "genesis.toml");
    writeFileSync(genesisPath, created.toml);
    created.seeds.forEach((s, i) => writeFileSync(join(dir, `v${i}.key`), toHex(s) + "\n", { mode: 0o600 }));
    const rpc = (i: number) => `http://127.0.0.1:${ports.rpc + i}`;
    const storeDir = (i: number) => (i === VICTIM ? join(tmpfs ? mountPoint : dir, "store-victim") : join(dir, `store-${i}`));
    // Only the victim's output is read (after it exits); the others' would fill an unread pipe.
    const start = (i: number, env: Record<string, string> = {}): Subprocess =>
      Bun.spawn([
        BIN, "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, `v${i}.key`), "--store_dir", storeDir(i),
        "--rpc_addr", `127.0.0.1:${ports.rpc + i}`, "--metrics_addr", `127.0.0.1:${ports.metrics + i}`,
        "--fsync", "false", "--event_interval_ms", "50", "--idle_heartbeat_ms", "500", "--tx_proposer_interval_ms", "200",
      ], { stdin: "ignore", stdout: i === VICTIM ? "pipe" : "ignore", stderr: "ignore", env: { ...process.env, ...env } });
    const anchors = (i: number) => rpcCall<{ anchorCount: string }>(rpc(i), "phantom_status").then((s) => BigInt(s.anchorCount));

    const procs = [0, 1].map((i) => start(i));
    let victim = start(VICTIM, tmpfs ? {} : { [TEST_STORE_GROWTH_PAGES_ENV]: String(GROWTH_PAGES) });
    try {
      // With a tmpfs the disk fills when the test says so, after the three finalized
      // together; with the page limit the victim may fill its room first.
      let exited = false;
      void victim.exited.then(() => (exited = true));
      await until("all three finalize", async () => (exited || (await Promise.all([0, 1, 2].map(anchors))).every((a) => a >= 3n) ? true : undefined), 90_000);
      const reportedBefore = exited ? 0n : await anchors(VICTIM).catch(() => 0n); // anchors it said were final
      if (tmpfs) fillDisk(join(mountPoint, "filler"));
      const status = await Promise.race([victim.exited, Bun.sleep(60_000).then(() => "still running" as const)]);
      const out = await new Response(victim.stdout as ReadableStream).text();
      expect(status).toBe(EXIT_STORE_WRITE_FAILED);
      const fatal = out.split("\n").filter((l) => l.includes('"type":"fatal"'));
      expect(fatal.length).toBe(1);
      expect(JSON.parse(fatal[0]!)).toEqual(expect.objectContaining({ code: "STORE_WRITE_FAILED", exitCode: EXIT_STORE_WRITE_FAILED }));
      // DISK_LOW: the free-space watch saw the full tmpfs first; SQLITE_*: SQLite refused a write.
      expect(String(JSON.parse(fatal[0]!).reason)).toMatch(tmpfs ? /^(DISK_LOW|SQLITE_(FULL|IOERR))/ : /^SQLITE_(FULL|IOERR)/);
      expect(out).toContain('"type":"node_stopped"');

      // Room again (the operator freed space, or the page limit is gone after the restart).
      if (tmpfs) rmSync(join(mountPoint, "filler"));
      const db = new Database(join(storeDir(VICTIM), STORE_FILE_NAME), { readonly: true });
      expect((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
      // Nothing committed was lost: every anchor it reported before the fault is in the file.
      const state = db.query("SELECT last_anchor FROM ledger_state WHERE id = 0").get() as { last_anchor: number | bigint } | null;
      expect(BigInt(state?.last_anchor ?? -1) + 1n).toBeGreaterThanOrEqual(reportedBefore);
      db.close();
      const target = (await anchors(0)) + 3n;
      victim = start(VICTIM);
      await until("the restarted validator catches up", async () => ((await anchors(VICTIM)) >= target ? true : undefined), 90_000);
    } finally {
      for (const p of [...procs, victim]) p.kill("SIGTERM");
      await Promise.all([...procs, victim].map((p) => Promise.race([p.exited, Bun.sleep(15_000).then(() => p.kill("SIGKILL"))])));
    }
  }, 240_000);
});

/** Writes to `path` until the file system is full (bounded by the tmpfs size). */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(FILL_CHUNK_BYTES).fill(0xaa);
  try {
    for (let i = 0; i <= TMPFS_BYTES / FILL_CHUNK_BYTES; i++) writeSync(fd, chunk);
    throw new Error("the tmpfs did not fill up");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
    // Single pages may still fit: fill them too, so SQLite cannot grow the WAL at all.
    const page = new Uint8Array(4096);
    for (let i = 0; i < FILL_CHUNK_BYTES / page.length; i++) {
      try {
        writeSync(fd, page);
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
}
