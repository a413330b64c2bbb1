/**
 * The security headers of every page and file the gateway serves to browsers (the dashboard): what the page may
 * load and where it may connect. The dashboard is built into same-origin files only, so everything remote is
 * refused; its one outside connection is the gateway's own WebSocket and HTTP API.
 */

/** `host` or `host:port`, a DNS name, IPv4 or bracketed IPv6 literal: safe to repeat inside a header. */
const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The headers for a page asked of `host` (the request's `Host`). Browsers that follow CSP 3 already let `'self'`
 * reach ws:// and wss:// of the page's own host; older ones need it spelled out, so a well-formed `Host` is
 * named as well (a malformed one is left out: it never reaches the header).
 */
export function pageSecurityHeaders(host: string | undefined): Record<string, string> {
  const connect = ["'self'"];
  if (host !== undefined && HOST_HEADER.test(host)) connect.push(`ws://${host}`, `wss://${host}`);
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    // Styles set from scripts (element.style) are allowed; <style> elements and style="" attributes are not.
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    // The page may carry an account token in its URL fragment; no referrer leaves the page at all.
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}
