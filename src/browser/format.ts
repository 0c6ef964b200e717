/** Formatting of times, durations and progress for the UI. Pure. */

/** A duration: "850 ms", "12 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 60) return `${totalS} s`;
  if (totalS < 3600) {
    const m = Math.floor(totalS / 60);
    const s = totalS % 60;
    return `${m} min ${String(s).padStart(2, '0')} s`;
  }
  const totalMin = Math.round(totalS / 60);
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  return `${h} h ${String(m).padStart(2, '0')} min`;
}

/** Time left: "ETA 12 s", "ETA <1 s"; empty when unknown. */
export function formatEta(etaMs: number | null | undefined): string {
  if (etaMs === null || etaMs === undefined || !Number.isFinite(etaMs) || etaMs < 0) return '';
  if (etaMs < 1000) return 'ETA <1 s';
  return `ETA ${formatDuration(etaMs)}`;
}

/** Whole percent, rounded down so that an unfinished run never reads 100%. */
export function formatPercent(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${Math.floor(f * 100 + 1e-9)}%`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local date and time, "2024-03-07 09:05:01". */
export function formatTimestamp(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A readable message from anything thrown or rejected. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'message' in e && typeof (e as { message: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}
