import { execFile, spawnSync } from 'node:child_process';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Wrapper } from './server-process.js';

/**
 * valgrind's callgrind, driven from outside: a server runs under it with instrumentation off
 * (`--instr-atstart=no`, so start-up and warm-up run at valgrind's uninstrumented speed),
 * `callgrind_control -i on|off` brackets a fixed number of requests, `callgrind_control -d`
 * writes what was counted in between to a numbered dump file, which is parsed here.
 *
 * It counts every user-space instruction the process executes, on every thread (the event
 * loop, V8's compiler and GC helpers, libuv's pool), JIT-compiled code included
 * (`--smc-check=all-non-file` makes valgrind notice code V8 writes and rewrites). Not the
 * kernel's work for the process (syscalls, TCP), and nothing of other processes.
 */
export interface Callgrind {
  /** Prefix of the command line: valgrind and its options, then node and its arguments. */
  wrapper(label: string): Wrapper;
  /** Counts the instructions `pid` executes while `work` runs: one dump, parsed. */
  count(child: { pid: number; env?: NodeJS.ProcessEnv }, label: string, work: () => Promise<void>): Promise<Dump>;
  /** Where the dumps and valgrind's logs go. */
  dir: string;
}

/** One dump: everything counted between two dumps (here: one measured window). */
export interface Dump {
  file: string;
  /** Instructions executed (Ir), every thread. */
  instructions: number;
  /** Of which in V8's full (mark-compact) collector: marking, sweeping, evacuation, compaction (self cost, by name). */
  majorGc: number;
  /** Of which in V8's optimising compiler and parser (self cost, by name): non-zero when warm-up did not finish the JIT's work. */
  compiler: number;
}

/** What callgrind_control and vgdb read of the environment. */
const VGDB_ENV = ['PATH', 'HOME', 'TMPDIR', 'LOGNAME', 'USER', 'HOST', 'HOSTNAME'];

/** `valgrind --version`, or undefined when valgrind or callgrind_control cannot run. */
export function valgrindVersion(): string | undefined {
  const version = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  const control = spawnSync('callgrind_control', ['-h'], { encoding: 'utf8' });
  if (version.status !== 0 || control.error) return undefined;
  return version.stdout.trim();
}

export function createCallgrind(dir: string): Callgrind {
  // Our own vgdb FIFOs, not /tmp's: no other valgrind on the machine can answer for our pids.
  const vgdbPrefix = `--vgdb-prefix=${join(dir, 'vgdb-pipe')}`;
  const seen = new Set<string>();

  const control = (child: { pid: number; env?: NodeJS.ProcessEnv }, ...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      // vgdb names its FIFOs after LOGNAME/USER and HOST/HOSTNAME: it must see what valgrind
      // saw (the child's HOST is 127.0.0.1), and needs nothing else of the child's environment.
      const from = child.env ?? process.env;
      const env = Object.fromEntries(VGDB_ENV.filter((name) => from[name] !== undefined).map((name) => [name, from[name]]));
      execFile('callgrind_control', [vgdbPrefix, ...args, String(child.pid)], { env, timeout: 120_000 }, (error, stdout, stderr) => {
        // callgrind_control prints "OK." even when vgdb could not reach the process; stderr says so.
        if (error || /error|failed|no .*process/i.test(stderr)) {
          reject(new Error(`callgrind_control ${args.join(' ')} ${child.pid}: ${(stderr || stdout || String(error)).trim()}`));
        } else resolve(stdout);
      });
    });

  const newDumps = (label: string) => {
    const files = readdirSync(dir)
      .filter((name) => name.startsWith(`callgrind.${label}.out.`) && !seen.has(name))
      .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    for (const name of files) seen.add(name);
    return files.map((name) => join(dir, name));
  };

  return {
    dir,
    wrapper: (label) => ({
      command: 'valgrind',
      args: [
        '--tool=callgrind',
        '--instr-atstart=no',
        '--smc-check=all-non-file',
        '--fair-sched=yes',
        `--callgrind-out-file=${join(dir, `callgrind.${label}.out`)}`,
        `--log-file=${join(dir, `valgrind.${label}.log`)}`,
        vgdbPrefix,
      ],
      // V8's memory reducer decides from allocation per wall-clock millisecond whether the
      // process has gone idle, and then runs full collections that throw compiled code away.
      // Valgrind's ~50× slowdown (and the second between two windows) looks idle to it: it
      // fired in the middle of the load, at random, and left some runs at up to 1.6× the
      // instructions per request of others. At native speed it does not fire under load.
      nodeFlags: ['--no-memory-reducer'],
      // Node, tsx and (for the service) the database start several times slower under valgrind.
      readyTimeoutMs: 300_000,
    }),
    async count(child, label, work) {
      newDumps(label); // anything written before (e.g. nothing) is not this window's
      await control(child, '-i', 'on');
      let failed = false;
      try {
        await work();
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        await control(child, '-i', 'off').catch((error) => {
          if (!failed) throw error;
        });
      }
      await control(child, '-d');
      const files = newDumps(label);
      if (files.length === 0) throw new Error(`callgrind wrote no dump for ${label} (pid ${child.pid}) in ${dir}`);
      const dumps = await Promise.all(files.map(parseDump));
      const total: Dump = { file: files.join(', '), instructions: 0, majorGc: 0, compiler: 0 };
      for (const dump of dumps) {
        total.instructions += dump.instructions;
        total.majorGc += dump.majorGc;
        total.compiler += dump.compiler;
      }
      if (total.instructions === 0) throw new Error(`callgrind counted nothing for ${label}: instrumentation was not switched on`);
      return total;
    },
  };
}

/** V8's full collector, by function name: concurrent and incremental marking, sweeping, evacuation, compaction. */
const MAJOR_GC = /Marking|MarkCompact|Sweep|Evacuat|RecordMigratedSlot|Compact|MemoryChunkData|RememberedSetUpdating|PointersUpdating/;
/** V8's optimising compiler (TurboFan, Maglev) and the parser / bytecode generator. */
const COMPILER = /v8::internal::compiler::|v8::internal::maglev::|v8::internal::Parser::|v8::internal::interpreter::BytecodeGenerator/;

/**
 * Reads a callgrind dump: `totals:` (or `summary:` when there is no totals line) is the
 * instruction count; the self cost of functions named like V8's full collector and compiler
 * is summed on the side, to flag windows a mark-compact or the JIT fell into. Self cost: the
 * cost lines under `fn=`, except the line after `calls=`, which is a callee's inclusive cost.
 */
export async function parseDump(file: string): Promise<Dump> {
  const names = new Map<string, string>();
  let current = '';
  let afterCalls = false;
  let totals: number | undefined;
  let summary: number | undefined;
  let majorGc = 0;
  let compiler = 0;
  let currentKind: 'gc' | 'compiler' | undefined;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const first = line.charCodeAt(0);
    // Cost line: position then Ir ("0 123", "+3 45", "-2 6", "* 7").
    if ((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 42) {
      if (afterCalls) {
        afterCalls = false;
        continue;
      }
      if (currentKind) {
        // A cost line without the event's column costs 0 of it.
        const cost = Number(line.split(' ')[1] ?? 0) || 0;
        if (currentKind === 'gc') majorGc += cost;
        else compiler += cost;
      }
      continue;
    }
    const fn = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
    if (fn) {
      if (fn[3] !== undefined) names.set(fn[2]!, fn[3]);
      if (fn[1] === 'fn') {
        current = names.get(fn[2]!) ?? '';
        currentKind = MAJOR_GC.test(current) ? 'gc' : COMPILER.test(current) ? 'compiler' : undefined;
      }
      continue;
    }
    if (line.startsWith('calls=')) afterCalls = true;
    else if (line.startsWith('totals:')) totals = Number(line.slice(7).trim().split(' ')[0]);
    else if (line.startsWith('summary:')) summary = Number(line.slice(8).trim().split(' ')[0]);
  }
  const instructions = totals ?? summary;
  if (instructions === undefined || !Number.isFinite(instructions)) throw new Error(`no totals in callgrind dump ${file}`);
  return { file, instructions, majorGc, compiler };
}
