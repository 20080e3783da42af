import type { Principal } from "../../core/auth/roles.ts";
import { newId } from "../../core/ids.ts";
import { isLanguage, test_templates } from "../../core/notifications/event-types.ts";
import { mailOf, renderTemplate } from "../../core/notifications/render.ts";
import { inTransaction } from "../../store/retry.ts";
import { selectUserContact } from "../../store/users-sql.ts";
import { insertDueDelivery } from "../../store/webhook-deliveries-sql.ts";
import { nextEndpointSequence } from "../../store/webhook-endpoints-sql.ts";
import type { ServiceContext } from "../context.ts";
import { getEndpoint } from "./endpoints.ts";
import { userOf } from "./inbox.ts";
import { insertEmails, insertInboxItems } from "./people.ts";
import { webhookBody } from "./webhook-fanout.ts";

// `POST /v1/notifications/test`: a test notification to the caller through
// each of its channels (inbox, and mail when it has an address), and, given an
// endpoint, a `webhook.test` message through the real delivery path.

export interface TestResult {
  inbox_item_id: string | null;
  email_id: string | null;
  delivery_id: string | null;
}

export async function sendTestNotification(
  ctx: ServiceContext,
  principal: Principal,
  input: { endpoint_id?: string | undefined },
): Promise<TestResult> {
  const endpoint =
    input.endpoint_id === undefined ? null : await getEndpoint(ctx, principal, input.endpoint_id);
  const user_id = userOf(principal);
  const now = ctx.now();
  return inTransaction(ctx.db, async (tx) => {
    const result: TestResult = { inbox_item_id: null, email_id: null, delivery_id: null };
    if (user_id !== null) {
      const user = await selectUserContact(tx, principal.tenant_id, user_id);
      const language = isLanguage(user?.language) ? user.language : "zh-CN";
      const rendered = renderTemplate(test_templates[language], "notification.test", {});
      // A test item has its own id as its "event", so each test makes a new item.
      const event_id = newId();
      const item_id = newId();
      await insertInboxItems(
        tx,
        principal.tenant_id,
        [
          {
            id: item_id,
            user_id,
            event_id,
            event_seq: null,
            type: "notification.test",
            party_ids: principal.party_id === null ? [] : [principal.party_id],
            ...rendered,
            data: { test: true },
          },
        ],
        now,
      );
      result.inbox_item_id = item_id;
      if (user?.email) {
        const mail = mailOf(rendered, language);
        const email_id = newId();
        await insertEmails(
          tx,
          principal.tenant_id,
          [
            {
              id: email_id,
              user_id,
              event_id,
              kind: "test",
              to_address: user.email,
              language,
              type: "notification.test",
              subject: mail.subject,
              text_body: mail.text,
              html_body: mail.html,
              next_attempt_at: now,
            },
          ],
          now,
        );
        result.email_id = email_id;
      }
    }
    if (endpoint !== null) {
      const message_id = newId();
      const sequence = await nextEndpointSequence(tx, principal.tenant_id, endpoint.id);
      const body = webhookBody(
        {
          id: message_id,
          type: "webhook.test",
          created_at: now,
          payload: { test: true, endpoint_id: endpoint.id },
        },
        sequence,
      );
      const delivery_id = newId();
      await insertDueDelivery(
        tx,
        principal.tenant_id,
        {
          id: delivery_id,
          endpoint_id: endpoint.id,
          message_id,
          sequence,
          type: "webhook.test",
          party_ids: endpoint.party_id === null ? [] : [endpoint.party_id],
          body,
        },
        now,
      );
      result.delivery_id = delivery_id;
    }
    return result;
  });
}
