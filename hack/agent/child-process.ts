// One local process standing in for a container: output appended to a log file (and a tail kept for the termination
// message), stopped like the kubelet stops a container (SIGTERM, then SIGKILL after a grace period).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { OutputTail } from './output-tail.ts';

export interface ChildSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly logFile: string;
  readonly tailLines: number;
}

export interface ChildExit {
  /** The exit code; a child killed by a signal reports 128 + signal number, as a container runtime does. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };

export class ManagedChild {
  readonly startedAt = new Date();
  readonly tail: OutputTail;
  readonly exited: Promise<ChildExit>;
  readonly #child: ChildProcess;
  readonly #log: WriteStream;
  #exit: ChildExit | undefined;
  #stopping: Promise<ChildExit> | undefined;

  constructor(spec: ChildSpec) {
    this.tail = new OutputTail(spec.tailLines);
    this.#log = createWriteStream(spec.logFile, { flags: 'a' });
    this.#log.write(`--- ${this.startedAt.toISOString()} ${spec.file} ${spec.args.join(' ')}\n`);
    // A fresh environment: the agent's own variables (its kubeconfig, proxies, HOME) must not leak into a "container".
    this.#child = spawn(spec.file, spec.args, { cwd: spec.cwd, env: { ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.tail.push(chunk);
        this.#log.write(chunk);
      });
    }
    this.exited = new Promise((resolve) => {
      const finish = (exitCode: number, signal: NodeJS.Signals | null): void => {
        if (this.#exit) return;
        this.#exit = { exitCode, signal, startedAt: this.startedAt, finishedAt: new Date() };
        this.#log.end(`--- exited code=${exitCode} signal=${signal ?? ''}\n`);
        resolve(this.#exit);
      };
      // 'error' covers a binary that cannot be executed at all (ENOENT, EACCES): 127/126 like a shell reports.
      this.#child.on('error', (err: NodeJS.ErrnoException) => {
        this.tail.push(`${err.message}\n`);
        finish(err.code === 'ENOENT' ? 127 : 126, null);
      });
      this.#child.on('close', (code, signal) => {
        finish(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0), signal);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** SIGTERM, then SIGKILL if the child is still alive after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs: number): Promise<ChildExit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    this.#stopping ??= this.#terminate(graceMs);
    return this.#stopping;
  }

  async #terminate(graceMs: number): Promise<ChildExit> {
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
