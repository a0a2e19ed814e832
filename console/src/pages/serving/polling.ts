/** How often the Serving tab reads what changes on its own (status, versions, events) while visible. */
export const POLL_MS = 2500;
