// Fail-stop (issue 11 item 4): what an exception in a timer or a connection callback
// means, and a validator whose store refuses writes (SQLite's own SQLITE_FULL) in a
// running in-process network: one `fatal` line, not ready, stopped, nothing committed lost.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { FailStop, EXIT_INTERNAL_ERROR, EXIT_STORE_WRITE_FAILED, HANDLER_ERROR_REASON, type Failure } from "../../src/node/fail-stop.ts";
import { StoreError } from "../../src/store/errors.ts";
import { SqliteStore, STORE_FILE_NAME } from "../../src/store/sqlite-store.ts";
import { invariant } from "../../src/errors.ts";
import { TestNet, applied, stopAll, until, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

const storeFull = () => new StoreError("STORE_WRITE_FAILED", "store write failed (putEvents): database or disk is full [SQLITE_FULL]", { reason: "SQLITE_FULL", errno: 13, operation: "putEvents" });

function failStop() {
  const lines: Record<string, unknown>[] = [];
  const fs = new FailStop((l) => lines.push(l));
  const failures: Failure[] = [];
  fs.onFail((f) => failures.push(f));
  return { fs, lines, failures };
}

describe("FailStop", () => {
  test("a timer that throws fail-stops once; the guarded callbacks do nothing afterwards", () => {
    const { fs, lines, failures } = failStop();
    let runs = 0;
    const tick = fs.guard("tick", () => {
      runs++;
      throw storeFull();
    });
    tick();
    tick();
    fs.fail(new Error("later"), "other"); // only the first failure counts
    expect(runs).toBe(1);
    expect(failures).toEqual([{ code: "STORE_WRITE_FAILED", exitCode: EXIT_STORE_WRITE_FAILED, where: "tick" }]);
    expect(lines).toEqual([expect.objectContaining({ type: "fatal", code: "STORE_WRITE_FAILED", reason: "SQLITE_FULL", operation: "putEvents", exitCode: 74 })]);
  });

  test("an unexpected exception in a timer and a broken invariant are internal errors (exit 70)", () => {
    const a = failStop();
    a.fs.guard("redial", () => { throw new TypeError("x is undefined"); })();
    expect(a.failures[0]).toEqual({ code: "INTERNAL_ERROR", exitCode: EXIT_INTERNAL_ERROR, where: "redial" });
    const b = failStop();
    b.fs.connection("p2p_frame", () => {}, () => invariant(false, "anchor 5 arrived before 4"));
    expect(b.failures[0]).toEqual({ code: "INVARIANT_VIOLATED", exitCode: EXIT_INTERNAL_ERROR, where: "p2p_frame" });
  });

  test("a connection callback: a bug closes only that connection; a store failure closes it and fail-stops", () => {
    const { fs, lines, failures } = failStop();
    const closed: string[] = [];
    fs.connection("p2p_frame", (r) => closed.push(r), () => { throw new RangeError("offset out of bounds"); });
    expect(closed).toEqual([HANDLER_ERROR_REASON]);
    expect(failures).toEqual([]);
    expect(lines[0]).toEqual(expect.objectContaining({ type: "handler_error", where: "p2p_frame", message: "offset out of bounds" }));
    fs.connection("p2p_frame", (r) => closed.push(r), () => { throw storeFull(); });
    expect(closed).toEqual([HANDLER_ERROR_REASON, "STORE_WRITE_FAILED"]);
    expect(failures.map((f) => f.code)).toEqual(["STORE_WRITE_FAILED"]);
    let ran = false;
    fs.connection("p2p_attach", (r) => closed.push(r), () => (ran = true));
    expect(ran).toBe(false); // nothing more is processed after a fail-stop: the connection is closed
    expect(closed).toEqual([HANDLER_ERROR_REASON, "STORE_WRITE_FAILED", "STORE_WRITE_FAILED"]);
  });
});

describe("a validator whose disk fills up", () => {
  test("fail-stops with one STORE_WRITE_FAILED line and not ready; its store is sound and replays; the others ban nobody", async () => {
    const net = new TestNet({ k: 4, devnetLabel: "fail-stop-test", initialTargetBits: 8 });
    nets.push(net);
    const { fs, lines, failures } = failStop();
    const nodes: TestNode[] = [0, 1, 2].map((i) => net.node(i));
    const victim = net.node(3, undefined, { failStop: fs });
    nodes.push(victim);
    for (const n of nodes) await n.node.start();
    let events = -1;
    try {
      await until(() => nodes.every((n) => applied(n) >= 3n) && victim.node.ready());
      const pages = Number((victim.store.db.query("PRAGMA page_count").get() as { page_count: bigint }).page_count);
      victim.store.db.run(`PRAGMA max_page_count = ${pages}`); // SQLite refuses to grow the file from now on
      await until(() => failures.length > 0, 30_000);
      expect(failures[0]!.code).toBe("STORE_WRITE_FAILED");
      expect(failures[0]!.exitCode).toBe(EXIT_STORE_WRITE_FAILED);
      const fatal = lines.filter((l) => l.type === "fatal");
      expect(fatal.length).toBe(1);
      expect(fatal[0]).toEqual(expect.objectContaining({ code: "STORE_WRITE_FAILED", reason: "SQLITE_FULL" }));
      expect(victim.node.ready()).toBe(false);
      // The node stopped itself: no timer or frame touches the store any more.
      const at = applied(victim);
      events = victim.store.eventCount();
      await until(() => applied(nodes[0]!) >= at + 3n); // the other three keep finalizing (bounded wait)
      expect(applied(victim)).toBe(at);
      expect(victim.store.eventCount()).toBe(events);
      for (const n of nodes) expect(await n.registry.getSingleMetricAsString("pc_p2p_bans_total")).toMatch(/pc_p2p_bans_total 0/);
      expect(await victim.registry.getSingleMetricAsString("pc_node_events_rejected_total")).not.toContain("STORE_WRITE_FAILED");
    } finally {
      await stopAll(nodes);
    }
    const path = join(victim.dir, STORE_FILE_NAME);
    const db = new Database(path, { readonly: true });
    expect((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    db.close();
    // Restart on the same store (room again): it replays everything it committed.
    const again = net.node(3, victim.dir);
    const committed = applied(victim);
    expect(applied(again)).toBe(committed);
    expect(again.store.eventCount()).toBe(events);
    await again.node.start(); // replays every stored event through the engine again
    expect(again.node.engine.stats().events).toBeGreaterThan(0);
    await stopAll([again]);
  }, 90_000);
});
