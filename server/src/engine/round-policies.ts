/** The round policies by mode name (see round-policy.ts). */
import { AsyncRoundPolicy } from './async-round-policy.ts';
import type { RoundHost, RoundPolicy } from './round-policy.ts';
import type { FederationSettings, ModeName } from './settings.ts';
import { SyncRoundPolicy } from './sync-round-policy.ts';

const POLICIES: Record<ModeName, (settings: FederationSettings, host: RoundHost) => RoundPolicy> = {
  sync: (settings, host) => new SyncRoundPolicy(settings.sync, host),
  async: (settings) => new AsyncRoundPolicy(settings.async),
};

export function roundPolicyFor(settings: FederationSettings, host: RoundHost): RoundPolicy {
  const make = POLICIES[settings.mode];
  if (!make) throw new Error(`unknown round mode ${JSON.stringify(settings.mode)}`);
  return make(settings, host);
}
