/** The CLI's side of the REST API: one request, and any failure as an Error with one clear line. */

export class ApiClientError extends Error {
  override name = 'ApiClientError';
}

/** Sends one request to a running server (`base`: its URL, e.g. http://127.0.0.1:8080). */
export async function callApi<T>(base: string, method: string, path: string, body?: unknown): Promise<T | undefined> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const { cause } = error as { cause?: { code?: string; message?: string } };
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
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
    throw new ApiClientError(error?.message ? `${error.message} (${error.code ?? res.status})` : `the server answered ${res.status}`);
  }
  return parsed as T;
}
