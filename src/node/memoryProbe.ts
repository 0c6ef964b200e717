/**
 * The process's resident-set high-water mark around a piece of work (Linux). `resetPeakRss()`
 * resets the kernel's counter (/proc/self/clear_refs <- 5) and returns the current RSS, so a
 * later `readPeakRss()` gives the high-water mark of just that work. Both return null where the
 * platform has no such counter.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function resetPeakRss(): number | null {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return readStatusKb('VmRSS');
  } catch {
    return null;
  }
}

export function readPeakRss(): number | null {
  try {
    return readStatusKb('VmHWM');
  } catch {
    return null;
  }
}

function readStatusKb(field: string): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status);
  if (!m) throw new Error(`${field} not found`);
  return Number(m[1]) * 1024;
}
