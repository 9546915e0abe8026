/**
 * `bun run chaos [--nodes 4..7] [--seed N] [--faults N] [--duration_s S] [--out summary.json] ...`:
 * one chaos run against real validator processes on loopback (docs/RELIABILITY.md).
 * Exit status 0 when every check passed, 1 when one failed (the replay command is
 * printed), 2 on a usage error.
 */
import { ChaosUsageError, parseChaosArgs } from "./options.ts";
import { runChaos } from "./run.ts";
import { emergencyStop } from "./cluster.ts";

// Ctrl-C must not leave validator processes or tmpfs mounts behind.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    emergencyStop();
    console.error(`chaos: interrupted (${sig}); children killed`);
    process.exit(130);
  });
}

try {
  const options = parseChaosArgs(process.argv.slice(2));
  const summary = await runChaos(options);
  process.exit(summary.ok ? 0 : 1);
} catch (e) {
  if (e instanceof ChaosUsageError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}
