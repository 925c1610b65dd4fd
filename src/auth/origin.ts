/**
 * Which browser pages may open the signaling socket. A browser always sends `Origin` with a
 * WebSocket handshake; other clients (the bot, scripts) send none and are judged by their token.
 * Allowed: the page's own origin (this server, as the browser reached it) and the configured
 * origins, each by exact match. A server that listens on loopback only is reached by a loopback
 * name only, so that a page whose name was rebound to 127.0.0.1 does not count as its own.
 */
export interface OriginPolicy {
  /** Exact origins (`https://app.example.com`) allowed besides the page's own. */
  allowed: readonly string[];
  loopbackOnly: boolean;
}

/** A loopback name as a browser writes it: a 127/8 address, localhost or [::1] (not merely starting with "127."). */
function isLoopbackName(name: string): boolean {
  return /^127(\.\d{1,3}){3}$/.test(name) || name === 'localhost' || name === '::1';
}

function hostName(host: string): string {
  const bracket = host.startsWith('[') ? host.indexOf(']') : -1;
  if (bracket > 0) return host.slice(1, bracket);
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** Pure: whether a handshake with these headers is allowed, over TLS or not. */
export function originAllowed(policy: OriginPolicy, origin: string | undefined, host: string | undefined, tls: boolean): boolean {
  if (origin === undefined) return true;
  if (policy.allowed.includes(origin)) return true;
  if (!host) return false;
  if (policy.loopbackOnly && !isLoopbackName(hostName(host))) return false;
  return origin === `${tls ? 'https' : 'http'}://${host}`;
}
