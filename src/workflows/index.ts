export { offloadWorkflow } from './offload';
export { maintenanceWorkflow } from './maintenance';
export { backfillWorkflow } from './backfill';
