/**
 * The one Content-Security-Policy of the UI, shared by the web host (HTTP header) and the
 * Electron main process (response header). src/browser/index.html carries the same policy in a
 * <meta http-equiv> tag (without `frame-ancestors`, which browsers ignore in meta tags); keep
 * the two in step. Everything the UI loads comes from its own origin; nothing runs inline.
 */
export const CONTENT_SECURITY_POLICY_DIRECTIVES: readonly string[] = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  // 'self' also allows ws:/wss: to the page's own host and port (CSP level 3).
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
];

export const CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY_DIRECTIVES.join('; ');

/**
 * The development policy (electron-vite dev server only): Vite injects CSS as <style> elements
 * while serving, so inline styles must be allowed there. Never used for built output.
 */
export const DEV_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY_DIRECTIVES.map((d) =>
  d.startsWith('style-src ') ? `${d} 'unsafe-inline'` : d,
).join('; ');
