export { offloadWorkflow } from './offload';
