/** `rl.notebooks`: execute a notebook headless through the tslab kernel and read its outputs. */
export * from './execute';
