import { DEFAULT_CONFIG, type ServerConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

/** A real server on 127.0.0.1 and a free port (the server's own timeouts: a busy machine holds a bot's event loop for seconds while it starts). */
export function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: 0,
    ...overrides,
  });
}
