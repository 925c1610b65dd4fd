/** The summaries of samples live with the load generator, which reports the same figures. */
export * from '../../src/loadtest/numbers.ts';
