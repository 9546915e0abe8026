// The localnet supervisor with real child processes: a SIGKILLed child is started
// again after the backoff and the others keep running; a child that keeps crashing is
// given up on; stop() ends everything, including pending restarts.
import { describe, expect, test } from "bun:test";
import { Supervisor, backoffDelayMs, nextUnstableCount, type BackoffPolicy, type Child } from "../../src/cli/supervisor.ts";

const policy: BackoffPolicy = { delayMsMin: 500, delayMsMax: 10_000, stableMs: 30_000, restartsUnstableMax: 3 };

/** Polls `cond` every 20 ms, at most `limitMs` (a bound, not a timing assertion). */
async function until(cond: () => boolean, limitMs = 10_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 20) {
    if (waited > limitMs) throw new Error("condition not reached");
    await Bun.sleep(20);
  }
}

const spawnSleep = (spawned: Child[]) => (): Child => {
  const p = Bun.spawn(["sleep", "60"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  spawned.push(p);
  return p;
};

describe("backoff policy", () => {
  test("doubles from the minimum, caps at the maximum", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelayMs(policy, n))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });
  test("a stable run resets the count, a quick crash adds one", () => {
    expect(nextUnstableCount(policy, 4, 30_000)).toBe(0);
    expect(nextUnstableCount(policy, 4, 29_999)).toBe(5);
    expect(nextUnstableCount(policy, 0, 10)).toBe(1);
  });
});

describe("Supervisor (real processes)", () => {
  test("a SIGKILLed child is restarted with one line; its sibling is untouched; stop ends all", async () => {
    const lines: string[] = [];
    const a: Child[] = [];
    const b: Child[] = [];
    const sup = new Supervisor({ ...policy, delayMsMin: 50 }, (l) => lines.push(l));
    sup.add({ name: "a", spawn: spawnSleep(a) });
    sup.add({ name: "b", spawn: spawnSleep(b) });
    a[0]!.kill("SIGKILL");
    await until(() => a.length === 2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^localnet: a exited with signal SIGKILL after [\d.]+ s; restarting in 0\.1 s \(restart 1\)$/);
    expect(b).toHaveLength(1);
    expect(b[0]!.exitCode).toBeNull();
    expect(sup.restarts()).toEqual({ a: 1, b: 0 });
    await sup.stop();
    expect([a[1]!.signalCode, b[0]!.signalCode]).toEqual(["SIGTERM", "SIGTERM"]);
  }, 20_000);

  test("a child that keeps crashing quickly is given up on", async () => {
    const lines: string[] = [];
    const sup = new Supervisor({ ...policy, delayMsMin: 10, delayMsMax: 40 }, (l) => lines.push(l));
    let spawned = 0;
    sup.add({ name: "bad", spawn: () => (spawned++, Bun.spawn(["false"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" })) });
    const why = await Promise.race([sup.gaveUp, Bun.sleep(10_000).then(() => "timeout")]);
    expect(why).toMatch(/^bad exited with code 1 after 3 quick restarts in a row; giving up$/);
    expect(spawned).toBe(4);
    expect(lines).toHaveLength(3);
    await sup.stop();
  }, 20_000);

  test("stop() cancels a pending restart", async () => {
    const a: Child[] = [];
    const sup = new Supervisor({ ...policy, delayMsMin: 300 }, () => {});
    sup.add({ name: "a", spawn: spawnSleep(a) });
    a[0]!.kill("SIGKILL");
    await a[0]!.exited;
    await sup.stop();
    await Bun.sleep(500);
    expect(a).toHaveLength(1);
  }, 20_000);
  test("stop() ends a stopped (SIGSTOP) child with SIGTERM, not the SIGKILL after the grace", async () => {
    const a: Child[] = [];
    const sup = new Supervisor(policy, () => {});
    sup.add({ name: "a", spawn: spawnSleep(a) });
    a[0]!.kill("SIGSTOP");
    await sup.stop();
    expect(a[0]!.signalCode).toBe("SIGTERM");
  }, 20_000);
});
