import { createContext, useContext, useSyncExternalStore } from 'react';
import { Client } from '../api/client';
import { LiveRegistry, type Loader, type Snapshot } from './store';
import type { EventStream, StreamState } from './events';

/** Polling interval of the views while the event stream is down. */
export const pollMs = 1500;

export interface AppServices {
  client: Client;
  live: LiveRegistry;
  /** The event stream that drives the sources; absent in tests. */
  events?: EventStream;
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside ServicesContext');
  return s;
}

export function useClient(): Client {
  return useServices().client;
}

const idle: Snapshot<never> = { loading: false };
const noop = () => () => {};

/**
 * useLive subscribes the component to the source named key (null: none),
 * made from load the first time the key is seen.
 */
export function useLive<T>(key: string | null, load: (c: Client, signal: AbortSignal) => Promise<T>, intervalMs = pollMs): Snapshot<T> & { refresh: () => void } {
  const { client, live } = useServices();
  const source = key === null ? null : live.source<T>(key, ((signal) => load(client, signal)) as Loader<T>, intervalMs);
  const snap = useSyncExternalStore(source?.subscribe ?? noop, source?.getSnapshot ?? (() => idle));
  return { ...snap, refresh: () => void source?.refresh() };
}

/** useStreamState follows the event stream: live, connecting or polling. */
export function useStreamState(): StreamState {
  const { events } = useServices();
  return useSyncExternalStore(
    (l) => events?.onStatus(l) ?? (() => {}),
    () => events?.status ?? 'polling',
  );
}
