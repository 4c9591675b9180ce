/**
 * `rl.viz`: Plotly figures, notebook display (`showFigure`, `showTable`), saving figures, UMAP, embedding maps and
 * neighbours, the aggregates the figures plot, and headless Chromium rendering.
 */
export * from './aggregate';
export * from './chromium';
export * from './display';
export * from './embeddings';
export * from './figures';
export * from './save';
export * from './umap';
