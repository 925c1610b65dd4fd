/** The CLI's side of the REST API: one request, and any failure as an Error with one clear line. */

export class ApiClientError extends Error {
  override name = 'ApiClientError';
}

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

/** Sends one request to a running server (`base`: its URL, e.g. http://127.0.0.1:8080), with a bearer token when given. */
export async function callApi<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T | undefined> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
  };
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const { cause } = error as { cause?: { code?: string; message?: string } };
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    if (SELF_SIGNED.has(cause?.code ?? '')) {
      throw new ApiClientError(`the server at ${url.origin} has a self-signed certificate: trust it with NODE_EXTRA_CA_CERTS=<its tls/self-signed.crt>`);
    }
    throw new ApiClientError(`cannot reach the server at ${url.origin} (${reason}): is it running? (mcu serve, or --url)`);
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiClientError(`${url.origin} answered ${res.status} with something that is not JSON: is it an mcu server?`);
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401 && token === undefined) {
      throw new ApiClientError(`the server wants a token: set MCU_API_KEY and MCU_API_SECRET (its keys), or MCU_TOKEN`);
    }
    throw new ApiClientError(error?.message ? `${error.message} (${error.code ?? res.status})` : `the server answered ${res.status}`);
  }
  return parsed as T;
}
