// Every status of one IstioUpgrade as the API server sent it (a watch straight to the API server, not through
// any fault proxy), to check that the phase never goes back and that Stalled does not flap.
import { Watch } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/constants.ts';
import type { Phase } from '../../src/api/schema.ts';
import type { Kube } from './kube.ts';
import type { LiveUpgrade } from './upgrades.ts';

export interface StatusSample {
  readonly phase: Phase | undefined;
  readonly stalled: string | undefined;
  readonly stalledReason: string | undefined;
  readonly wavesDone: number;
}

export interface StatusHistory {
  readonly samples: StatusSample[];
  stop(): void;
}

/** The order of phases on the way to Succeeded; RollingOut and Soaking alternate, so they share a rank. */
const RANK: Partial<Record<Phase, number>> = { Pending: 0, Prechecking: 1, Installing: 2, SwitchingTag: 3, UpgradingGateways: 4, Soaking: 5, RollingOut: 5, Uninstalling: 6, Succeeded: 7 };

export async function recordStatuses(kube: Kube, name: string): Promise<StatusHistory> {
  const samples: StatusSample[] = [];
  const request = await new Watch(kube.config).watch(
    `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`,
    { fieldSelector: `metadata.name=${name}` },
    (_type: string, upgrade: LiveUpgrade) => {
      const stalled = upgrade.status?.conditions?.find((c) => c.type === 'Stalled');
      samples.push({ phase: upgrade.status?.phase, stalled: stalled?.status, stalledReason: stalled?.reason, wavesDone: (upgrade.status?.waves ?? []).filter((w) => w.state === 'Succeeded').length });
    },
    () => undefined,
  );
  return {
    samples,
    stop: () => {
      request.abort();
    },
  };
}

/** Every step backwards: a phase of a lower rank after a higher one, or fewer finished waves than before. */
export function regressions(samples: readonly StatusSample[]): string[] {
  const out: string[] = [];
  let rank = -1;
  let waves = 0;
  for (const [i, s] of samples.entries()) {
    const r = s.phase === undefined ? 0 : (RANK[s.phase] ?? Number.POSITIVE_INFINITY);
    if (r < rank) out.push(`sample ${i}: phase ${s.phase ?? 'none'} after a later phase`);
    if (s.wavesDone < waves) out.push(`sample ${i}: ${s.wavesDone} waves done after ${waves}`);
    rank = Math.max(rank, r);
    waves = Math.max(waves, s.wavesDone);
  }
  return out;
}

/** The distinct Stalled statuses in order (e.g. False, True, False is a flap). */
export function stalledTrail(samples: readonly StatusSample[]): string[] {
  const trail: string[] = [];
  for (const s of samples) {
    const value = `${s.stalled ?? 'unset'}${s.stalled === 'True' ? `(${s.stalledReason ?? ''})` : ''}`;
    if (trail.at(-1) !== value) trail.push(value);
  }
  return trail;
}
