import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt, type TokenBody } from '../helper.js';

/** A client as the server sees it: its User-Agent and address. */
export interface Device {
  userAgent: string;
  ip: string;
}
export const LAPTOP: Device = { userAgent: 'Laptop/1.0 (Firefox)', ip: '203.0.113.10' };
export const PHONE: Device = { userAgent: 'Phone/2.0 (iOS)', ip: '198.51.100.20' };
export const TABLET: Device = { userAgent: 'Tablet/3.0 (Android)', ip: '2001:db8::30' };

/** A token response with the email it signed in and the session id its access token names. */
export type Signed = TokenBody & { email: string; sid: string };

/** The signed-in session a register or login answered, or an error naming the unexpected status. */
export function signed(res: LightMyRequestResponse, email: string, expected: number): Signed {
  if (res.statusCode !== expected) throw new Error(`expected ${expected}, got ${res.statusCode}: ${res.body}`);
  const body = res.json() as TokenBody;
  return { ...body, email, sid: decodeJwt(body.accessToken).payload.sid as string };
}
