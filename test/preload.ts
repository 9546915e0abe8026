// Loaded before every test file (bunfig.toml [test] preload): a per-test timeout that Bun
// applies (it ignores `timeout` in bunfig.toml). Generous: the CI machine is a busy 2-core
// box and no test asserts a duration; tests that need longer pass their own.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
