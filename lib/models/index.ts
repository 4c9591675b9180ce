/**
 * `rl.models`: the registry (`createModel`, `modelEntry`, names, aliases, parameter spellings), the model classes
 * with their hyperparameter schemas, the `Recommender` interface, ensembles, and saving/loading a model.
 */
export { AlsGenreModel, alsGenreSchema } from './als-genre';
export * from './baseline';
export { BprModel, bprSchema } from './bpr';
export { ContentModel, contentSchema } from './content';
export { EaseModel, easeSchema } from './ease';
export * from './ensemble';
export * from './fold-in';
export { GbdtModel, gbdtSchema } from './gbdt';
export { GlobalMeanModel } from './global-mean';
export { HybridNnModel, hybridNnSchema } from './hybrid-nn';
export { IalsModel, ialsSchema } from './ials';
export { ItemKnnModel, itemKnnSchema } from './item-knn';
export * from './item-similarity';
export { KnnModel, knnSchema } from './knn';
export { LmfModel, lmfSchema } from './lmf';
export { NeumfModel, neumfSchema } from './neumf';
export * from './persist';
export { PopularityModel, popularitySchema } from './popularity';
export { PureSvdModel, pureSvdSchema } from './pure-svd';
export { RandomModel, randomSchema } from './random';
export * from './recommender';
export * from './registry';
export { Rp3betaModel, rp3betaSchema } from './rp3beta';
export { sideInputsOf } from './side-inputs';
export { SlimModel, slimSchema } from './slim';
export { SvdModel, svdSchema } from './svd';
export { SvdppModel, svdppSchema } from './svdpp';
