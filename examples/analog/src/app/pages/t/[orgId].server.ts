// /t/<orgId>'s data, read on the server: membership checked against Better Auth (401, 403), then the
// documents from the gateway's projection with the stream position they were read at (`after`).
import type { PageServerLoad } from '@analogjs/router';
import { OrganizationId } from '../../../../../shared/schemas';
import { readOrganizationPage } from '../../../../../shared/server/account';
import { parse } from '../../../../../shared/server/input';
import { loadOutcome } from '../../../server/http/page-load';

export const load = async ({ event, params }: PageServerLoad) =>
  loadOutcome(() => readOrganizationPage(event.headers, parse(OrganizationId, params?.['orgId'])));
