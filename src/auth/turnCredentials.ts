import { createHmac } from 'node:crypto';
import type { IceServer } from '../peers/peerConfig.ts';

/**
 * Short-lived TURN credentials in the scheme coturn calls its REST API (`--use-auth-secret
 * --static-auth-secret`): username `<expiry, unix seconds>:<identity>`, password
 * base64(HMAC-SHA1(secret, username)). coturn refuses them once the expiry has passed, so
 * a credential handed to a client is worth nothing after its time.
 */
export interface TurnSettings {
  /** turn: and turns: URLs of the TURN server(s) sharing `secret`. */
  urls: string[];
  secret: string;
  ttlSeconds: number;
}

/** Pure: the ICE server entry a client gets, for `identity`, at `nowMs`. */
export function turnCredentials(settings: TurnSettings, identity: string, nowMs: number): IceServer {
  const expiry = Math.floor(nowMs / 1000) + settings.ttlSeconds;
  // coturn reads the time before the first ':'; keep the identity to characters nobody parses.
  const username = `${expiry}:${identity.replace(/[^A-Za-z0-9_.@-]/g, '_')}`;
  const credential = createHmac('sha1', settings.secret).update(username).digest('base64');
  return { urls: settings.urls, username, credential };
}

/** Whether a URL is a TURN server's (RFC 7065): turn: or turns:, host, optional port and transport. */
export function isTurnUrl(url: string): boolean {
  return /^turns?:[^\s?]+(\?transport=(udp|tcp))?$/i.test(url);
}
