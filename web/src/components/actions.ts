import { useState } from 'react';
import { useServices } from '../live/hooks';
import { useToast } from './toasts';
import type { Client } from '../api/client';

/**
 * useAction runs a write against the API: one at a time, with a toast
 * for the outcome, then refreshes the live sources it touched.
 */
export function useAction() {
  const { client, live } = useServices();
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  async function run<T>(key: string, call: (c: Client) => Promise<T>, opts: {
    ok: (r: T) => string; link?: (r: T) => { to: string; label: string } | undefined; invalidate?: string[];
    /** Sees a refusal first, e.g. to show it beside the field it names. */
    onError?: (err: unknown) => void;
  }): Promise<T | undefined> {
    setBusy(key);
    try {
      const r = await call(client);
      toast.show({ text: opts.ok(r), link: opts.link?.(r) });
      for (const p of opts.invalidate ?? []) live.invalidate(p);
      return r;
    } catch (err) {
      opts.onError?.(err);
      toast.show({ text: err instanceof Error ? err.message : String(err), bad: true });
      return undefined;
    } finally {
      setBusy(null);
    }
  }
  return { busy, run };
}
