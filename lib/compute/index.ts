/**
 * `rl.compute`: the few kernels a researcher calls directly — sparse matrices, top-k, randomized SVD, the thread
 * count, and the TensorFlow.js backend. Everything else in lib/compute is internal to the models.
 */
export { defaultThreads } from './pool';
export { type RsvdOptions, randomizedSvd, type TruncatedSvd } from './rsvd';
export type { FactorScorer, ItemScorer } from './scorer';
export { columnCounts, rowSums, type SparseMatrix, type Storage, transpose } from './sparse';
export {
  currentTensorFlow,
  type LoadTensorFlowOptions,
  loadTensorFlow,
  measureMatMulGflops,
  TENSOR_BACKENDS,
  type TensorBackendName,
  type TensorFlowHandle,
  type TF,
} from './tensor';
export { type TopK, topK } from './topk';
