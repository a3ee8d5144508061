import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { signInAddresses, users } from './schema.js';

/** The known-address evidence (see `signInAddresses`); rows are written with each new session (sessions.ts). */
export function createSignInAddressesRepository(db: Db) {
  return {
    /** Has the account with this email, or this id, signed in with a password from `address` after `since`? */
    async isKnown(account: { email: string } | { userId: string }, address: string, since: Date): Promise<boolean> {
      const owner =
        'userId' in account
          ? eq(signInAddresses.userId, account.userId)
          : eq(signInAddresses.userId, sql`(select ${users.id} from ${users} where ${users.email} = ${account.email})`);
      const rows = await db
        .select({ one: sql`1` })
        .from(signInAddresses)
        .where(and(owner, eq(signInAddresses.address, address), gt(signInAddresses.signedInAt, since)));
      return rows.length > 0;
    },
  };
}
