import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { MIGRATIONS, SCHEMA_VERSION, currentVersion, migrate } from "../../src/store/schema.ts";

test("migrations run once, in order, and a later migration upgrades an existing database keeping its rows", () => {
  const db = new Database(":memory:", { strict: true });
  expect(migrate(db)).toBe(0);
  expect(currentVersion(db)).toBe(SCHEMA_VERSION);
  expect(migrate(db)).toBe(SCHEMA_VERSION); // idempotent
  db.run(`INSERT INTO meta (key, value) VALUES ('k', x'01')`);
  const next = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, statements: [`ALTER TABLE meta ADD COLUMN note TEXT`] }];
  expect(migrate(db, next)).toBe(SCHEMA_VERSION);
  expect(currentVersion(db)).toBe(SCHEMA_VERSION + 1);
  expect(db.query(`SELECT key, note FROM meta`).all()).toEqual([{ key: "k", note: null }]);
  db.close();
});

test("a failing migration leaves the previous version and no partial change", () => {
  const db = new Database(":memory:", { strict: true });
  migrate(db);
  const broken = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, statements: [`CREATE TABLE extra (a INTEGER)`, `THIS IS NOT SQL`] }];
  expect(() => migrate(db, broken)).toThrow();
  expect(currentVersion(db)).toBe(SCHEMA_VERSION);
  expect(db.query(`SELECT name FROM sqlite_master WHERE name = 'extra'`).all()).toEqual([]);
  db.close();
});
