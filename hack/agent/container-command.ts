// The arguments of a container whose image's entrypoint is the binary the agent runs (istioctl, helm, pilot-discovery):
// `command`, if set, must start with that entrypoint; the rest of `command` plus `args` are the binary's arguments,
// after the kubelet's `$(VAR)` expansion.
import { basename } from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { expandReferences } from './pod-env.ts';

export function entrypointArguments(container: V1Container, entrypoint: string, env: Readonly<Record<string, string>>): string[] | { error: string } {
  const [first, ...commandRest] = container.command ?? [];
  if (first !== undefined && basename(first) !== entrypoint) {
    return { error: `command ${first} is not ${entrypoint}: the node agent only runs the image's entrypoint` };
  }
  return [...commandRest, ...(container.args ?? [])].map((arg) => expandReferences(arg, env));
}
