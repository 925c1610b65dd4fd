/** The palette lives with the load generator, which draws and reads the same colours. */
export * from '../../src/loadtest/palette.ts';
