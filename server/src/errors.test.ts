import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { describe, expect, it } from 'vitest';
import { asDomainError, DomainError, httpStatusOf, type DomainErrorCode } from './errors.js';

const CODES: DomainErrorCode[] = [
  'BAD_REQUEST', 'NOT_FOUND', 'CONFLICT', 'PRECONDITION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'TOO_MANY_REQUESTS', 'BAD_GATEWAY', 'SERVICE_UNAVAILABLE',
];

describe('httpStatusOf', () => {
  it.each(CODES)('%s: the status tRPC answers with for the same code', (code) => {
    expect(httpStatusOf(code)).toBe(getHTTPStatusCodeFromError(new TRPCError({ code })));
  });
});

describe('asDomainError', () => {
  it('keeps a domain error, maps a database refusal, leaves a real failure alone', () => {
    const domain = new DomainError('CONFLICT', 'taken');
    expect(asDomainError(domain)).toBe(domain);
    expect(asDomainError(Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'order_pkey' }))?.code).toBe('CONFLICT');
    expect(asDomainError({ cause: { code: '22P02' } })?.code).toBe('BAD_REQUEST');
    expect(asDomainError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))?.code).toBe('SERVICE_UNAVAILABLE');
    expect(asDomainError(new Error('boom'))).toBeUndefined();
  });

  it('a database that cannot serve us now is SERVICE_UNAVAILABLE; a statement cancelled by its own timeout, or another 55000, is not', () => {
    const pg = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const error of [pg('55000', 'database "orders" is not currently accepting connections'), pg('3D000'), pg('53300'), pg('28P01'), pg('57P01'), pg('57P03'), pg('08006'), { cause: pg('53300') }]) {
      expect(asDomainError(error)?.code, JSON.stringify(error)).toBe('SERVICE_UNAVAILABLE');
    }
    expect(asDomainError(pg('55000', 'currval of sequence "s" is not yet defined in this session'))).toBeUndefined();
    expect(asDomainError(pg('57014'))).toBeUndefined();
  });

  it('no pooled connection free within DATABASE_POOL_WAIT_SECONDS (pg-pool has no code for it) is SERVICE_UNAVAILABLE "busy", not a database outage', () => {
    for (const error of [new Error('timeout exceeded when trying to connect'), { cause: new Error('timeout exceeded when trying to connect') }]) {
      expect(asDomainError(error)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'the server is busy: no database connection came free in time; try again' });
    }
  });
});
