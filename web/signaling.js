// WebSocket signaling client for the mixer (README, "Signaling").
// One JSON object per text frame, each with a string `type`.
//
// Events (EventTarget):
//   'message' -> CustomEvent, detail = the parsed server message (object with string `type`)
//   'close'   -> CustomEvent, detail = { code, reason, wasClean }; only after a successful
//                open(), and not after our own close()

/** ws(s)://<host of this page>/socket */
export function socketUrl(loc = window.location) {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/socket`;
}

export class Signaling extends EventTarget {
  /** @param {string} url */
  constructor(url) {
    super();
    this.url = url;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.closedByUs = false;
  }

  /** Opens the socket; resolves when open, rejects if it cannot be opened in time. */
  open(timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.ws = ws;
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new Error('timed out connecting to the server'));
        try { ws.close(); } catch { /* ignore */ }
      }, timeoutMs);

      ws.addEventListener('open', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      });
      // An 'error' is always followed by 'close'; the close handler reports it.
      ws.addEventListener('error', () => {});
      ws.addEventListener('close', (ev) => {
        clearTimeout(timer);
        if (!settled) {
          settled = true;
          reject(new Error(`could not open ${this.url}${ev.code && ev.code !== 1006 ? ` (code ${ev.code})` : ''}`));
          return;
        }
        if (this.closedByUs) return;
        this.dispatchEvent(new CustomEvent('close', {
          detail: { code: ev.code, reason: ev.reason, wasClean: ev.wasClean },
        }));
      });
      ws.addEventListener('message', (ev) => {
        if (this.closedByUs || typeof ev.data !== 'string') return;
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          console.debug('signaling: ignoring a frame that is not JSON');
          return;
        }
        if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
          console.debug('signaling: ignoring a frame without a type');
          return;
        }
        this.dispatchEvent(new CustomEvent('message', { detail: msg }));
      });
    });
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one message; returns false when the socket is not open. */
  send(msg) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Closes the socket (data already queued by send() is still delivered). */
  close(code = 1000, reason = '') {
    this.closedByUs = true;
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
      try { ws.close(code, reason); } catch { /* ignore */ }
    }
  }
}
