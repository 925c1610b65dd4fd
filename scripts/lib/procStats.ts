/** Process statistics live in the shared base (the load generator reports its own CPU with them). */
export * from '../../base/process/procStats.ts';
