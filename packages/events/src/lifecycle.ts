/**
 * The `connector.handshake` audit entry naming the `connector.updated` event that started the
 * attempt. Readiness waits for that update before deciding: the policy (a breaking change in
 * production needs approval) and the receipt's changelog come from it, and the two arrive on
 * different topics in either order.
 */
export const UPDATE_AUDIT_KEY = 'preflight.update_event';
