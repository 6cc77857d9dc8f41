// RollingOut: restart the workloads of the current wave that its tag moves, at most maxConcurrentNamespaces
// namespaces at a time. A wave that needs approval waits for the annotation; the first wave of an additional
// tag moves that tag first; namespaces pinned to the old revision are relabelled onto the tag when adopted.
// When a wave is done its soak starts.
import { APPROVE_ANNOTATION, ISTIO_REV_LABEL } from '../../api/constants.ts';
import type { LabelNamespace } from '../actions.ts';
import type { Draft } from '../draft.ts';
import { parseDuration } from '../duration.ts';
import { driveRestarts } from '../restarts.ts';
import { startSoak, waveTarget } from '../soak.ts';
import { awaitingApproval, fail, next, paused, working, type StepOutcome } from '../step.ts';
import { waveTally } from '../wave-tally.ts';
import { waveTag } from '../waves.ts';
import { switchTag } from './switching-tag.ts';

export function rollingOut(draft: Draft): StepOutcome {
  const { spec } = draft;
  const waves = draft.status.waves ?? [];
  const current = waves.find((w) => w.state !== 'Succeeded');
  if (current === undefined) {
    delete draft.status.currentWave;
    draft.setCondition('DataPlaneUpgraded', 'True', 'DataPlaneUpgraded', `all ${waves.length} wave(s) run revision ${draft.toRevision}`);
    return next('Uninstalling', 'every wave upgraded and soaked');
  }
  const waveSpec = spec.rollout.waves.find((w) => w.name === current.name);
  if (waveSpec === undefined) return fail('InvalidWave', `wave "${current.name}" is in the status but not in the spec`);
  draft.status.currentWave = current.name;
  const tag = waveTag(spec, waveSpec);

  if (current.state === 'Pending') {
    if (waveSpec.requireApproval && draft.upgrade.metadata.annotations[APPROVE_ANNOTATION] !== current.name) {
      const message = `wave "${current.name}" waits for approval: kubectl annotate istioupgrade ${draft.upgrade.metadata.name} ${APPROVE_ANNOTATION}=${current.name} --overwrite`;
      draft.setCondition('DataPlaneUpgraded', 'False', 'AwaitingApproval', message);
      return awaitingApproval(message);
    }
    // Nothing has started yet: a paused upgrade must not claim the wave is under way.
    if (spec.paused) return paused(`paused before wave "${current.name}"; set spec.paused to false to resume`);
    const moving = switchTag(draft, tag);
    if (moving !== undefined) return moving;
    if (tag !== spec.tag) draft.setCondition('TagSwitched', 'True', 'TagSwitched', `tags "${draft.tags.join('", "')}" point at revision ${draft.toRevision} as their waves come`);
    current.state = 'InProgress';
    current.startedAt = draft.now.toISOString();
    draft.event('Normal', 'WaveStarted', `wave "${current.name}" (tag ${tag}) started: ${current.namespaces.join(', ') || 'no namespaces'}`);
  }

  // Each namespace's share, updated only where something changed: a pass costs the change, not the wave.
  const target = draft.toRevision;
  const tally = waveTally(draft, current.name, current.namespaces, tag);
  if (tally.nothingToDo) {
    current.state = 'Succeeded';
    current.completedAt = draft.now.toISOString();
    return next('RollingOut', `wave "${current.name}" has no workloads to restart`);
  }

  // Namespaces under way keep their slots; free slots go to the next namespaces in name order. A pinned
  // namespace is relabelled first; its workloads restart once the label is seen.
  const admitted = tally.admitted(waveSpec.maxConcurrentNamespaces);
  const adopt: LabelNamespace[] = admitted
    .filter((e) => e.adopt)
    .map((e) => e.ns)
    .sort()
    .map((name) => ({ type: 'labelNamespace', name, labels: { [ISTIO_REV_LABEL]: tag } }));

  const restartable = admitted.filter((e) => !e.adopt).flatMap((e) => e.moved);
  const progress = driveRestarts(draft, restartable, target, parseDuration(spec.rollout.workloadTimeout));
  if (progress.timedOut !== undefined) {
    return fail('WorkloadTimeout', `wave "${current.name}": a workload did not come up on revision ${target} within ${spec.rollout.workloadTimeout}: ${progress.timedOut}`);
  }
  if (tally.allDone) {
    current.state = 'Soaking';
    startSoak(draft, waveTarget(current.name), current.namespaces, tally.all().flatMap((e) => e.moved));
    return next('Soaking', `wave "${current.name}" upgraded; soaking for ${spec.soak.duration}`);
  }
  const { upgraded, total } = tally;
  const evicting = progress.evicting.length > 0 ? `; evicting ${progress.evicting.join(', ')}` : '';
  const adopting = adopt.length > 0 ? `; relabelling ${adopt.map((a) => a.name).join(', ')} onto tag ${tag}` : '';
  const message = `wave "${current.name}": ${upgraded}/${total} workloads on ${target}; namespaces in progress: ${admitted.map((e) => e.ns).join(', ')}${evicting}${adopting}`;
  draft.setCondition('DataPlaneUpgraded', 'False', 'RollingOut', message);
  return working('RollingOut', message, [...adopt, ...progress.actions]);
}
