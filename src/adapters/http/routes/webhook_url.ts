import { loadConfig } from '../../../config.js';
import { isPerksError, type PerksError } from '../../../core/errors.js';
import { assertDeliverableUrl } from '../../webhooks/addresses.js';

/**
 * Checks a webhook URL (which resolves over DNS) before the request's transaction opens, so no
 * transaction waits on DNS. A refusal is answered from inside `execute`, so it is stored under the
 * request's Idempotency-Key like any other answer.
 */
export async function checkUrl(url: string | undefined): Promise<PerksError | undefined> {
  if (url === undefined) return undefined;
  try {
    await assertDeliverableUrl(url, loadConfig().webhooksAllowPrivate);
    return undefined;
  } catch (err) {
    if (isPerksError(err)) return err;
    throw err;
  }
}
