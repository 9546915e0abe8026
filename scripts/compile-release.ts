/**
 * Compiles src/cli/main.ts into one standalone executable for one target, with that
 * target's libphantom embedded. Called by scripts/build-release (which builds the
 * native libraries and fetches the target runtimes first); usable alone too:
 *
 *   bun run scripts/compile-release.ts --target bun-linux-arm64 --lib <libphantom> --outfile <path> [--runtime <bun binary>]
 *
 * src/crypto/embedded.ts holds `embeddedLibPath = null` in the source tree. Here a
 * bundler plugin replaces that one module, only inside this build, with an
 * embedded-file import of the given library, so the source tree is never edited and
 * the binary dlopens its own copy at run time: Bun writes the embedded library once to
 * $TMPDIR (`.bun-0-<hash>.so`, reused by later runs) and dlopens that file, so $TMPDIR
 * (default /tmp) must be writable and not mounted noexec.
 */
import { resolve, join } from "node:path";
import { existsSync } from "node:fs";
import type { BunPlugin } from "bun";

const ROOT = resolve(import.meta.dir, "..");
const ENTRY = join(ROOT, "src/cli/main.ts");
const EMBEDDED_MODULE = join(ROOT, "src/crypto/embedded.ts");
const TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-darwin-x64", "bun-darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];

interface Options {
  target: Target;
  lib: string;
  outfile: string;
  runtime?: string;
}

function fail(message: string): never {
  console.error(`[compile-release] error: ${message}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const value = argv[i + 1];
    if (!key.startsWith("--") || value === undefined) fail(`bad arguments near "${key}"; usage: --target <t> --lib <file> --outfile <file> [--runtime <bun>]`);
    values.set(key.slice(2), value);
  }
  const target = values.get("target");
  if (!target || !(TARGETS as readonly string[]).includes(target)) fail(`--target must be one of ${TARGETS.join(", ")}`);
  const lib = values.get("lib");
  if (!lib || !existsSync(lib)) fail(`--lib ${lib ?? "(missing)"} does not exist; run scripts/build-native all`);
  const outfile = values.get("outfile") ?? fail("--outfile is required");
  const runtime = values.get("runtime");
  if (runtime !== undefined && !existsSync(runtime)) fail(`--runtime ${runtime} does not exist`);
  return { target: target as Target, lib: resolve(lib), outfile: resolve(outfile), runtime: runtime && resolve(runtime) };
}

/** Swaps src/crypto/embedded.ts for a module that embeds `libPath` (this build only). */
function embedLibrary(libPath: string): BunPlugin {
  return {
    name: "phantom-embed-libphantom",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]crypto[\\/]embedded\.ts$/ }, (args) => {
        if (resolve(args.path) !== EMBEDDED_MODULE) return undefined;
        const contents =
          `import lib from ${JSON.stringify(libPath)} with { type: "file" };\n` +
          `export const embeddedLibPath: string | null = lib;\n`;
        return { contents, loader: "ts" };
      });
    },
  };
}

async function compile(opts: Options): Promise<void> {
  const result = await Bun.build({
    entrypoints: [ENTRY],
    compile: { target: opts.target, outfile: opts.outfile, ...(opts.runtime ? { executablePath: opts.runtime } : {}) },
    minify: true,
    sourcemap: "none",
    plugins: [embedLibrary(opts.lib)],
    throw: false,
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    fail(`bun build failed for ${opts.target}`);
  }
}

await compile(parseOptions(process.argv.slice(2)));
