import { TRPCClientError } from '@trpc/client';

export type ErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK'
  | 'UNKNOWN';

interface ErrorData {
  code?: string;
  httpStatus?: number;
}

export function errorCode(error: unknown): ErrorCode {
  if (error instanceof TRPCClientError) {
    const data = error.data as ErrorData | undefined;
    if (data?.code) return data.code as ErrorCode;
    const status = (error.meta?.response as Response | undefined)?.status;
    if (status === 502 || status === 503 || status === 504) return 'NETWORK';
    if (status === 401) return 'UNAUTHORIZED';
    if (status === 429) return 'TOO_MANY_REQUESTS';
    // fetch failed outright (server down, wrong address): no response at all.
    if (error.cause instanceof TypeError || /fetch|network/i.test(error.message)) return 'NETWORK';
    return 'UNKNOWN';
  }
  if (error instanceof TypeError && /fetch|network/i.test(error.message)) return 'NETWORK';
  return 'UNKNOWN';
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** A message staff can act on, from whatever a call threw. */
export function describeError(error: unknown, context: 'login' | 'action' | 'load' = 'action'): string {
  const code = errorCode(error);
  const serverMessage = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'NETWORK':
      return 'Cannot reach the Orders server. Check that it is running and that the server address is right.';
    case 'UNAUTHORIZED':
      return context === 'login' ? 'Invalid email or password.' : 'Your session has expired. Log in again.';
    case 'FORBIDDEN':
      return `Not allowed: ${sentence(serverMessage.replace(/^requires/, 'this requires'))}`;
    case 'TOO_MANY_REQUESTS':
      return context === 'login' ? 'Too many login attempts. Wait a minute, then try again.' : 'Too many requests. Wait a moment, then try again.';
    case 'INTERNAL_SERVER_ERROR':
      return 'The server failed to handle this. Try again; if it keeps happening, check the server logs.';
    case 'UNKNOWN':
      return sentence(serverMessage || 'Something went wrong');
    default:
      return sentence(serverMessage);
  }
}
