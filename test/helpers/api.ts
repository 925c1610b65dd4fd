/** What the REST API answered: its status, its body (parsed when JSON), its content type. */
export interface ApiReply<T> {
  status: number;
  body: T;
  type: string | null;
}

/** One request to a running server's API; a string body is sent as it is (to test malformed JSON). */
export async function apiCall<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<ApiReply<T>> {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, body: (text && type?.includes('json') ? JSON.parse(text) : text) as T, type };
}
