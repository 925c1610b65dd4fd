/** An error's message, or the thrown value as text: for one-line reports. */
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
