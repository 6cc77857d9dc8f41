// One real istiod (pilot-discovery) standing in for the pods of an istiod Deployment: started with the Deployment's
// configuration, restarted with backoff when it exits, restarted when its configuration changes, and probed on
// /ready like the pod's readinessProbe, so the fake pods can report what the real process reports.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Backoff } from './backoff.ts';
import { ManagedChild } from './child-process.ts';
import { killLeftoverIstiod, PID_FILE } from './leftover-process.ts';
import type { Logger } from './logger.ts';

export interface IstiodSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The working directory, holding the emulated mounts: istiod's relative paths (./var/run/secrets/...) land there. */
  readonly rootDir: string;
  readonly logFile: string;
  /** The chart's readinessProbe: GET http://<address>:8080/ready. */
  readonly readyUrl: string;
  /** containerFingerprint() of the pod template this process runs. */
  readonly fingerprint: string;
}

const PROBE_PERIOD_MS = 2000;
/** Like the kubelet's readinessProbe default: one failed probe does not make a pod unready, three in a row do. */
const FAILURE_THRESHOLD = 3;
/** istiod drains for --shutdownDuration (10s by default) after SIGTERM; the chart's grace period is 30s. */
const STOP_GRACE_MS = 30_000;

export class IstiodProcess {
  readonly #log: Logger;
  readonly #stateDir: string;
  readonly #onReadyChange: (ready: boolean) => void;
  readonly #backoff = new Backoff({ initialMs: 1000, maxMs: 60_000, resetAfterMs: 120_000 });
  #spec: IstiodSpec | undefined;
  #specHash = '';
  #child: ManagedChild | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;
  #probeFailures = 0;
  #ready = false;
  #stopped = false;
  #startedOnce = false;
  #firstStartMs = 0;
  readonly #restartTimes: number[] = [];

  constructor(stateDir: string, log: Logger, onReadyChange: (ready: boolean) => void) {
    this.#stateDir = stateDir;
    this.#log = log;
    this.#onReadyChange = onReadyChange;
  }

  get ready(): boolean {
    return this.#ready;
  }

  get fingerprint(): string | undefined {
    return this.#spec?.fingerprint;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How often istiod crashed and was restarted since `since` (a pod's start): its restartCount in `kubectl get pods`. */
  restartsSince(since: Date): number {
    return this.#restartTimes.filter((t) => t >= since.getTime()).length;
  }

  /** Starts istiod, or restarts it if `spec` differs from what it runs with. */
  async apply(spec: IstiodSpec): Promise<void> {
    const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    if (this.#stopped || hash === this.#specHash) return;
    const restart = this.#spec !== undefined;
    this.#spec = spec;
    this.#specHash = hash;
    clearTimeout(this.#restartTimer);
    if (!this.#startedOnce) await killLeftoverIstiod(this.#stateDir, spec.rootDir, this.#log);
    this.#startedOnce = true;
    if (restart) this.#log.info('configuration changed, restarting istiod');
    await this.#stopChild();
    this.#backoff.reset();
    await this.#start();
  }

  /** Stops for good; `graceMs` is shorter when the whole agent shuts down (the launcher waits only a few seconds). */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#probeTimer);
    await this.#stopChild(graceMs);
  }

  async #start(): Promise<void> {
    const spec = this.#spec;
    if (this.#stopped || spec === undefined) return;
    const child = new ManagedChild({ file: spec.file, args: spec.args, env: spec.env, cwd: spec.rootDir, logFile: spec.logFile, tailLines: 20 });
    this.#child = child;
    this.#probeFailures = 0;
    if (this.#firstStartMs === 0) this.#firstStartMs = Date.now();
    this.#log.info({ pid: child.pid, file: spec.file, args: spec.args, logFile: spec.logFile }, 'istiod started');
    if (child.pid !== undefined) await writeFile(join(this.#stateDir, PID_FILE), String(child.pid));
    this.#probeTimer ??= setInterval(() => void this.#probe(), PROBE_PERIOD_MS);
    void child.exited.then((exit) => {
      if (this.#child !== child) return; // stopped or replaced on purpose
      this.#child = undefined;
      this.#setReady(false);
      const delayMs = this.#backoff.next(exit.finishedAt.getTime() - exit.startedAt.getTime());
      this.#log.warn({ exitCode: exit.exitCode, signal: exit.signal, delayMs, lastOutput: child.tail.text(2000) }, 'istiod exited, restarting');
      this.#restartTimes.push(Date.now());
      this.#restartTimer = setTimeout(() => void this.#start(), delayMs);
    });
  }

  async #stopChild(graceMs = STOP_GRACE_MS): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    this.#setReady(false);
    if (child) {
      const exit = await child.stop(graceMs);
      this.#log.info({ exitCode: exit.exitCode, signal: exit.signal }, 'istiod stopped');
    }
  }

  async #probe(): Promise<void> {
    const spec = this.#spec;
    const child = this.#child;
    if (this.#probing || child === undefined || spec === undefined) return;
    this.#probing = true;
    let ok = false;
    try {
      const response = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(PROBE_PERIOD_MS) });
      await response.body?.cancel();
      ok = response.ok;
    } catch {
      ok = false;
    } finally {
      this.#probing = false;
    }
    if (child !== this.#child) return; // exited or replaced while the probe was in flight
    this.#probeFailures = ok ? 0 : this.#probeFailures + 1;
    if (ok) this.#setReady(true);
    else if (this.#probeFailures >= FAILURE_THRESHOLD) this.#setReady(false);
  }

  #setReady(ready: boolean): void {
    if (ready === this.#ready) return;
    this.#ready = ready;
    if (ready && this.#firstStartMs > 0) {
      this.#log.info({ secondsSinceFirstStart: (Date.now() - this.#firstStartMs) / 1000 }, 'istiod ready');
      this.#firstStartMs = -1; // only the first readiness is timed
    } else {
      this.#log.info({ ready }, 'istiod readiness changed');
    }
    this.#onReadyChange(ready);
  }
}
