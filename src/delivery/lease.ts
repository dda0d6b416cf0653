// A lease outlives the request timeout by this margin, the time allowed to record the
// attempt. A worker that dies holds its leases this long past the timeout before another
// worker (PostgreSQL) takes them over; on SQLite a restart releases them at once.
export const LEASE_MARGIN_MS = 10_000;
