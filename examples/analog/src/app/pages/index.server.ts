// The organization picker's data: the signed-in user and their organizations (Better Auth).
import type { PageServerLoad } from '@analogjs/router';
import { readAccount } from '../../../../shared/server/account';
import { loadOutcome } from '../../server/http/page-load';

export const load = async ({ event }: PageServerLoad) => loadOutcome(() => readAccount(event.headers));
