// Kubernetes Events on the IstioUpgrade, so `kubectl describe iu` tells the story of an upgrade.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { CoreApi } from './rest/api-groups.ts';
import { API_GROUP_VERSION, KIND } from '../api/constants.ts';
import type { UpgradeEvent } from '../core/actions.ts';

// Events of cluster-scoped objects live in the "default" namespace (as kubectl and client-go record them).
const EVENT_NAMESPACE = 'default';
const COMPONENT = 'istio-upgrade-operator';

export interface EventTarget {
  readonly name: string;
  readonly uid: string;
}

export function eventObject(target: EventTarget, event: UpgradeEvent, now: Date, instance: string): CoreV1Event {
  const suffix = `${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${target.name}.${suffix}`, namespace: EVENT_NAMESPACE },
    involvedObject: { apiVersion: API_GROUP_VERSION, kind: KIND, name: target.name, uid: target.uid },
    type: event.type,
    reason: event.reason,
    message: event.message.slice(0, 1024),
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    source: { component: COMPONENT },
    reportingComponent: COMPONENT,
    reportingInstance: instance,
  };
}

export class EventRecorder {
  private readonly core: CoreApi;
  private readonly instance: string;
  constructor(core: CoreApi, instance: string) {
    this.core = core;
    this.instance = instance;
  }

  /** Best effort: a lost event must never fail a reconcile. Returns the errors for logging. */
  async record(target: EventTarget, events: readonly UpgradeEvent[], now: Date): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (const event of events) {
      try {
        await this.core.createNamespacedEvent({ namespace: EVENT_NAMESPACE, body: eventObject(target, event, now, this.instance) });
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}
