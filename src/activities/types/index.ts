// Inputs and results shared by activities and workflows. Plain data only: it travels through Temporal history, and
// workflows import it, so nothing here may import an implementation.
export type * from './backfill';
export type * from './maintenance';
export type * from './offload';
export type * from './restate';
