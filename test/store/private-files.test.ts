// The store is private on disk: folder 0700, database and its WAL/SHM files 0600, a
// loose file of an older store tightened; and the helpers behind the key-file check.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore, STORE_FILE_NAME } from "../../src/store/sqlite-store.ts";
import { checkSecretFileMode } from "../../src/store/private-files.ts";

const root = mkdtempSync(join(tmpdir(), "phantom-private-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const modeOf = (p: string) => statSync(p).mode & 0o777;

test("a new store: folders 0700, database, -wal and -shm 0600", () => {
  const dir = join(root, "a", "nested", "store");
  const store = new SqliteStore({ storeDir: dir, fsync: false });
  try {
    store.db.run("CREATE TABLE IF NOT EXISTS t (x)");
    store.db.run("INSERT INTO t VALUES (1)");
    for (const d of [join(root, "a"), join(root, "a", "nested"), dir]) expect(`${d}:${modeOf(d).toString(8)}`).toBe(`${d}:700`);
    for (const suffix of ["", "-wal", "-shm"]) {
      const f = join(dir, STORE_FILE_NAME + suffix);
      expect(existsSync(f)).toBe(true);
      expect(`${suffix}:${modeOf(f).toString(8)}`).toBe(`${suffix}:600`);
    }
  } finally {
    store.close();
  }
}, 10_000);

test("an older store's loose database file is tightened to 0600 on open", () => {
  const dir = join(root, "old");
  new SqliteStore({ storeDir: dir, fsync: false }).close();
  const db = join(dir, STORE_FILE_NAME);
  chmodSync(db, 0o644);
  const store = new SqliteStore({ storeDir: dir, fsync: false });
  store.close();
  expect(modeOf(db)).toBe(0o600);
}, 10_000);

test("a store folder that cannot be created is a typed error", () => {
  const file = join(root, "plain-file");
  writeFileSync(file, "x");
  let code = "";
  try {
    new SqliteStore({ storeDir: join(file, "store"), fsync: false });
  } catch (e) {
    code = (e as { code: string }).code;
  }
  expect(code).toBe("STORE_OPEN_FAILED");
});

test("checkSecretFileMode refuses group/other access unless allowed, then warns", () => {
  const f = join(root, "secret");
  writeFileSync(f, "s", { mode: 0o600 });
  const warnings: string[] = [];
  const check = (allow: boolean) => {
    try {
      checkSecretFileMode(f, "key file", "KEY_FILE_PERMISSIONS", allow, (m) => warnings.push(m));
      return "ok";
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  for (const mode of [0o600, 0o400, 0o700]) {
    chmodSync(f, mode);
    expect(check(false)).toBe("ok");
  }
  for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602, 0o660]) {
    chmodSync(f, mode);
    expect(`${mode.toString(8)}:${check(false)}`).toBe(`${mode.toString(8)}:KEY_FILE_PERMISSIONS`);
  }
  expect(warnings).toEqual([]);
  expect(check(true)).toBe("ok");
  expect(warnings.length).toBe(1);
  expect(warnings[0]).toContain("660");
});
